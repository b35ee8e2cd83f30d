package lambda_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/integrations/lambda"
	"github.com/stepwell/stepwell/value"
)

// fakeLambda implements the Lambda Invoke API the way AWS Lambda answers
// for Python functions (the behaviour of the conformance stub).
type fakeLambda struct {
	mu    sync.Mutex
	calls []recordedCall
}

type recordedCall struct {
	rawPath string
	query   url.Values
	header  http.Header
	body    string
}

var invokePath = regexp.MustCompile(`^/2015-03-31/functions/([^/]+)/invocations$`)

const requestID = "9f1c6b52-7b8e-4c55-9d1a-0c4f5e6a7b8c"

func (f *fakeLambda) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.calls = append(f.calls, recordedCall{rawPath: r.URL.EscapedPath(), query: r.URL.Query(), header: r.Header.Clone(), body: string(body)})
	f.mu.Unlock()

	h := w.Header()
	set := func(k, v string) { h[k] = []string{v} } // keep Lambda's spelling
	set("Date", "Sat, 21 Nov 2026 10:00:00 GMT")
	set("Connection", "keep-alive")
	m := invokePath.FindStringSubmatch(r.URL.EscapedPath())
	if r.Method != http.MethodPost || m == nil {
		set("x-amzn-RequestId", requestID)
		set("X-Amzn-ErrorType", "UnknownOperationException")
		w.WriteHeader(404)
		return
	}
	ref, _ := url.PathUnescape(m[1])
	name := ref
	if strings.HasPrefix(ref, "arn:") {
		name = strings.Split(ref, ":")[6]
	}
	name, _, _ = strings.Cut(name, ":")
	send := func(status int, payload string, extra ...string) {
		set("Content-Type", "application/json")
		set("X-Amz-Executed-Version", "$LATEST")
		set("x-amzn-Remapped-Content-Length", "0")
		set("x-amzn-RequestId", requestID)
		set("X-Amzn-Trace-Id", "root=1-abc;sampled=0")
		if r.Header.Get("X-Amz-Log-Type") == "Tail" {
			set("X-Amz-Log-Result", base64.StdEncoding.EncodeToString([]byte("START\nEND\n")))
		}
		for i := 0; i+1 < len(extra); i += 2 {
			set(extra[i], extra[i+1])
		}
		set("Content-Length", fmt.Sprint(len(payload)))
		w.WriteHeader(status)
		io.WriteString(w, payload)
	}
	switch r.Header.Get("X-Amz-Invocation-Type") {
	case "Event":
		set("x-amzn-RequestId", requestID)
		w.WriteHeader(202)
		return
	case "DryRun":
		w.WriteHeader(204)
		return
	}
	event := string(body)
	if strings.TrimSpace(event) == "" {
		event = "{}"
	}
	switch name {
	case "id_function":
		send(200, event)
	case "echo_function":
		send(200, `{"Return": "HelloWorld"}`)
	case "return_bytes_str":
		send(200, `"HelloWorld!"`)
	case "not_json":
		send(200, `Hello, World`)
	case "large_output_string":
		send(200, strings.Repeat("a", 257*1024))
	case "raise_exception":
		send(200, `{"errorMessage": "Some exception was raised.", "errorType": "Exception", "requestId": "`+requestID+
			`", "stackTrace": ["  File \"/var/task/handler.py\", line 2, in handler\n    raise Exception(\"Some exception was raised.\")\n"]}`,
			"X-Amz-Function-Error", "Unhandled")
	case "throttled":
		set("x-amzn-RequestId", requestID)
		set("Content-Type", "application/json")
		set("X-Amzn-ErrorType", "TooManyRequestsException")
		w.WriteHeader(429)
		io.WriteString(w, `{"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded", "Type": "User", "message": "Rate Exceeded."}`)
	case "slow":
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
		send(200, event)
	default:
		set("x-amzn-RequestId", requestID)
		set("Content-Type", "application/json")
		set("X-Amzn-ErrorType", "ResourceNotFoundException")
		w.WriteHeader(404)
		io.WriteString(w, `{"Type": "User", "Message": "Function not found: arn:aws:lambda:us-east-1:111111111111:function:`+
			name+`:$LATEST", "__type": "ResourceNotFoundException"}`)
	}
}

func (f *fakeLambda) last(t *testing.T) recordedCall {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		t.Fatal("no call reached the Lambda endpoint")
	}
	return f.calls[len(f.calls)-1]
}

func newServer(t *testing.T) (*lambda.Invoker, *fakeLambda) {
	t.Helper()
	f := &fakeLambda{}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return lambda.New(srv.URL+"/", srv.Client()), f
}

const fnARN = "arn:aws:lambda:us-east-1:111111111111:function:"

func task(resource string, input string) *engine.Task {
	return &engine.Task{Resource: resource, Input: value.MustParse(input), StateName: "S",
		Region: "us-east-1", AccountID: "111111111111"}
}

// resultHeaders is the part of a lambda:invoke result built from the fake's headers.
const resultHeaders = `"SdkHttpMetadata":{"AllHttpHeaders":{"X-Amz-Executed-Version":["$LATEST"],` +
	`"x-amzn-Remapped-Content-Length":["0"],"Connection":["keep-alive"],"x-amzn-RequestId":["` + requestID + `"],` +
	`"Content-Length":["%d"],"Date":["Sat, 21 Nov 2026 10:00:00 GMT"],"X-Amzn-Trace-Id":["root=1-abc;sampled=0"],` +
	`"Content-Type":["application/json"]},"HttpHeaders":{"Connection":"keep-alive","Content-Length":"%d",` +
	`"Content-Type":"application/json","Date":"Sat, 21 Nov 2026 10:00:00 GMT","X-Amz-Executed-Version":"$LATEST",` +
	`"x-amzn-Remapped-Content-Length":"0","x-amzn-RequestId":"` + requestID + `","X-Amzn-Trace-Id":"root=1-abc;sampled=0"},` +
	`"HttpStatusCode":200},"SdkResponseMetadata":{"RequestId":"` + requestID + `"},"StatusCode":200}`

func TestInvoke_Success(t *testing.T) {
	tests := []struct {
		name     string
		resource string
		input    string
		want     string // value.String of the result
		wantBody string // what the function received
	}{
		{"arn keeps order and numbers", fnARN + "id_function", `{"b":1.0,"a":12345678901234567890,"c":[1,2]}`,
			`{"b":1.0,"a":12345678901234567890,"c":[1,2]}`, `{"b":1.0,"a":12345678901234567890,"c":[1,2]}`},
		{"arn string input is JSON text", fnARN + "id_function", `"HelloWorld"`, `"HelloWorld"`, `"HelloWorld"`},
		{"arn zero", fnARN + "id_function", `0`, `0`, `0`},
		{"arn returns a JSON string", fnARN + "return_bytes_str", `{}`, `"HelloWorld!"`, `{}`},
		{"arn result not JSON", fnARN + "not_json", `{}`, `"Hello, World"`, `{}`},
		{"arn echo", fnARN + "echo_function", `{"x":1}`, `{"Return":"HelloWorld"}`, `{"x":1}`},
		{"invoke object payload", "arn:aws:states:::lambda:invoke", `{"FunctionName":"id_function","Payload":{"k":"v"}}`,
			`{"ExecutedVersion":"$LATEST","Payload":{"k":"v"},` + fmt.Sprintf(resultHeaders, 9, 9), `{"k":"v"}`},
		{"invoke string payload is raw", "arn:aws:states:::lambda:invoke", `{"FunctionName":"id_function","Payload":"0"}`,
			`{"ExecutedVersion":"$LATEST","Payload":0,` + fmt.Sprintf(resultHeaders, 1, 1), `0`},
		{"invoke null payload sends nothing", "arn:aws:states:::lambda:invoke", `{"FunctionName":"id_function","Payload":null}`,
			`{"ExecutedVersion":"$LATEST","Payload":{},` + fmt.Sprintf(resultHeaders, 2, 2), ``},
		{"invoke bytes", "arn:aws:states:::lambda:invoke", `{"FunctionName":"return_bytes_str"}`,
			`{"ExecutedVersion":"$LATEST","Payload":"HelloWorld!",` + fmt.Sprintf(resultHeaders, 13, 13), ``},
		{"invoke by ARN", "arn:aws:states:::lambda:invoke", `{"FunctionName":"` + fnARN + `id_function","Payload":[]}`,
			`{"ExecutedVersion":"$LATEST","Payload":[],` + fmt.Sprintf(resultHeaders, 2, 2), `[]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, f := newServer(t)
			got, err := inv.Invoke(context.Background(), task(tt.resource, tt.input))
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			if s := value.String(got); s != tt.want {
				t.Errorf("result\n got: %s\nwant: %s", s, tt.want)
			}
			if b := f.last(t).body; b != tt.wantBody {
				t.Errorf("function received %q, want %q", b, tt.wantBody)
			}
		})
	}
}

func TestInvoke_RequestShape(t *testing.T) {
	tests := []struct {
		name      string
		resource  string
		input     string
		wantPath  string
		wantQuery string
		wantHdr   map[string]string
	}{
		{"function ARN with qualifier", fnARN + "id_function:prod", `{}`,
			"/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A111111111111%3Afunction%3Aid_function%3Aprod/invocations", "",
			map[string]string{"X-Amz-Invocation-Type": "RequestResponse", "X-Amz-Log-Type": ""}},
		{"invoke parameters", "arn:aws:states:::lambda:invoke",
			`{"FunctionName":"id_function","Qualifier":"$LATEST","LogType":"Tail","ClientContext":"eyJhIjoxfQ==","Payload":{}}`,
			"/2015-03-31/functions/id_function/invocations", "Qualifier=%24LATEST",
			map[string]string{"X-Amz-Invocation-Type": "RequestResponse", "X-Amz-Log-Type": "Tail", "X-Amz-Client-Context": "eyJhIjoxfQ=="}},
		{"numeric qualifier", "arn:aws:states:::lambda:invoke", `{"FunctionName":"id_function","Qualifier":3}`,
			"/2015-03-31/functions/id_function/invocations", "Qualifier=3", nil},
		{"dry run", "arn:aws:states:::lambda:invoke", `{"FunctionName":"id_function","InvocationType":"DryRun"}`,
			"/2015-03-31/functions/id_function/invocations", "", map[string]string{"X-Amz-Invocation-Type": "DryRun"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, f := newServer(t)
			if _, err := inv.Invoke(context.Background(), task(tt.resource, tt.input)); err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			c := f.last(t)
			if c.rawPath != tt.wantPath {
				t.Errorf("path %s, want %s", c.rawPath, tt.wantPath)
			}
			if q := c.query.Encode(); q != tt.wantQuery {
				t.Errorf("query %q, want %q", q, tt.wantQuery)
			}
			for k, v := range tt.wantHdr {
				if got := c.header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if a := c.header.Get("Authorization"); !strings.HasPrefix(a, "AWS4-HMAC-SHA256 Credential=stepwell/") ||
				!strings.Contains(a, "/us-east-1/lambda/aws4_request") {
				t.Errorf("Authorization = %q, want a SigV4 header for us-east-1/lambda", a)
			}
		})
	}
}

func TestInvoke_LogTailAndEvent(t *testing.T) {
	inv, _ := newServer(t)
	got, err := inv.Invoke(context.Background(), task("arn:aws:states:::lambda:invoke",
		`{"FunctionName":"id_function","LogType":"Tail"}`))
	if err != nil {
		t.Fatal(err)
	}
	o := got.(*value.Object)
	if want := []string{"ExecutedVersion", "LogResult", "Payload", "SdkHttpMetadata", "SdkResponseMetadata", "StatusCode"}; fmt.Sprint(o.Keys()) != fmt.Sprint(want) {
		t.Errorf("keys %v, want %v", o.Keys(), want)
	}
	meta, _ := o.Get("SdkHttpMetadata")
	all, _ := meta.(*value.Object).Get("AllHttpHeaders")
	if k := all.(*value.Object).Keys(); len(k) == 0 || k[0] != "X-Amz-Log-Result" {
		t.Errorf("AllHttpHeaders keys %v, want X-Amz-Log-Result first (Java HashMap order)", k)
	}

	got, err = inv.Invoke(context.Background(), task("arn:aws:states:::lambda:invoke",
		`{"FunctionName":"id_function","InvocationType":"Event"}`))
	if err != nil {
		t.Fatal(err)
	}
	o = got.(*value.Object)
	if p, _ := o.Get("Payload"); p != "" {
		t.Errorf("Event Payload = %#v, want empty string", p)
	}
	if s, _ := o.Get("StatusCode"); s != int64(202) {
		t.Errorf("Event StatusCode = %v, want 202", s)
	}
	if o.Has("ExecutedVersion") {
		t.Errorf("Event result has ExecutedVersion: %s", value.String(o))
	}
}

func TestInvoke_Errors(t *testing.T) {
	raised := `{"errorMessage": "Some exception was raised.", "errorType": "Exception", "requestId": "` + requestID +
		`", "stackTrace": ["  File \"/var/task/handler.py\", line 2, in handler\n    raise Exception(\"Some exception was raised.\")\n"]}`
	compact := value.String(value.MustParse(raised))
	tests := []struct {
		name, resource, input string
		wantName, wantCause   string
	}{
		{"arn function error keeps the raw text", fnARN + "raise_exception", `{}`, "Exception", raised},
		{"invoke function error is compact", "arn:aws:states:::lambda:invoke", `{"FunctionName":"raise_exception"}`,
			"Exception", compact},
		{"invoke not found", "arn:aws:states:::lambda:invoke", `{"FunctionName":"nope"}`, "Lambda.ResourceNotFoundException",
			"Function not found: arn:aws:lambda:us-east-1:111111111111:function:nope:$LATEST (Service: AWSLambda; " +
				"Status Code: 404; Error Code: ResourceNotFoundException; Request ID: " + requestID + "; Proxy: null)"},
		{"arn not found", fnARN + "nope", `{}`, "Lambda.ResourceNotFoundException",
			"Function not found: arn:aws:lambda:us-east-1:111111111111:function:nope:$LATEST (Service: AWSLambda; " +
				"Status Code: 404; Error Code: ResourceNotFoundException; Request ID: " + requestID + "; Proxy: null)"},
		{"throttled", "arn:aws:states:::lambda:invoke", `{"FunctionName":"throttled"}`, "Lambda.TooManyRequestsException",
			"Rate Exceeded. (Service: AWSLambda; Status Code: 429; Error Code: TooManyRequestsException; Request ID: " +
				requestID + "; Proxy: null)"},
		{"invoke too large", "arn:aws:states:::lambda:invoke", `{"FunctionName":"large_output_string"}`, fault.DataLimitExceeded,
			"The state/task 'lambda' returned a result with a size exceeding the maximum number of bytes service limit."},
		{"arn too large", fnARN + "large_output_string", `{}`, fault.DataLimitExceeded,
			"The state/task '" + fnARN + "large_output_string' returned a result with a size exceeding the maximum number of bytes service limit."},
		{"missing FunctionName", "arn:aws:states:::lambda:invoke", `{"Payload":{}}`, "Lambda.InvalidParameterValueException",
			"The lambda:invoke parameter 'FunctionName' is required."},
		{"parameters not an object", "arn:aws:states:::lambda:invoke", `[1]`, fault.Runtime,
			"The Parameters of a lambda:invoke task must be an object, got array."},
		{"waitForTaskToken", "arn:aws:states:::lambda:invoke.waitForTaskToken", `{"FunctionName":"id_function"}`, fault.Runtime,
			"The resource 'arn:aws:states:::lambda:invoke.waitForTaskToken' (lambda:invoke.waitForTaskToken) is not supported by this Stepwell build yet."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, _ := newServer(t)
			_, err := inv.Invoke(context.Background(), task(tt.resource, tt.input))
			var fe *fault.Error
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T), want *fault.Error", err, err)
			}
			if fe.Name != tt.wantName || fe.Cause != tt.wantCause || !fe.HasCause {
				t.Errorf("got  %s / %s\nwant %s / %s", fe.Name, fe.Cause, tt.wantName, tt.wantCause)
			}
		})
	}
}

func TestInvoke_ConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	endpoint := srv.URL
	srv.Close()
	inv := lambda.New(endpoint, nil)
	_, err := inv.Invoke(context.Background(), task(fnARN+"id_function", `{}`))
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Name != "Lambda.SdkClientException" ||
		!strings.HasPrefix(fe.Cause, "Unable to execute HTTP request: ") {
		t.Fatalf("error %v, want Lambda.SdkClientException", err)
	}
}

func TestInvoke_ContextDeadline(t *testing.T) {
	inv, _ := newServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := inv.Invoke(ctx, task(fnARN+"slow", `{}`))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want context.DeadlineExceeded", err)
	}
}

func TestHandles(t *testing.T) {
	tests := map[string]bool{
		"arn:aws:lambda:us-east-1:111111111111:function:f":           true,
		"arn:aws:lambda:us-east-1:111111111111:function:f:1":         true,
		"arn:aws-cn:lambda:cn-north-1:111111111111:function:f:alias": true,
		"arn:aws:states:::lambda:invoke":                             true,
		"arn:aws:states:::lambda:invoke.waitForTaskToken":            true,
		"arn:aws:lambda:us-east-1:111111111111:function:":            false,
		"arn:aws:lambda:us-east-1:111111111111:function:f:":          false,
		"arn:aws:lambda:us-east-1:111111111111:layer:f":              false,
		"arn:aws:states:::lambda:invoke.sync":                        false,
		"arn:aws:states:::http:invoke":                               false,
		"arn:aws:states:us-east-1:111111111111:activity:a":           false,
		"": false,
	}
	for res, want := range tests {
		if got := lambda.Handles(res); got != want {
			t.Errorf("Handles(%q) = %v, want %v", res, got, want)
		}
	}
}

// TestResultShapeMatchesRecording checks the key order of a lambda:invoke
// result against one recorded on AWS (conformance case
// services.test_lambda_task_service__TestTaskServiceLambda__test_invoke_unsupported_param).
func TestResultShapeMatchesRecording(t *testing.T) {
	recorded := `{"ExecutedVersion":"$LATEST","LogResult":"L","Payload":{},"SdkHttpMetadata":{"AllHttpHeaders":{` +
		`"X-Amz-Log-Result":["L"],"X-Amz-Executed-Version":["$LATEST"],"x-amzn-Remapped-Content-Length":["0"],` +
		`"Connection":["keep-alive"],"x-amzn-RequestId":["R"],"Content-Length":["2"],"Date":["D"],"X-Amzn-Trace-Id":["T"],` +
		`"Content-Type":["application/json"]},"HttpHeaders":{"Connection":"keep-alive","Content-Length":"2",` +
		`"Content-Type":"application/json","Date":"D","X-Amz-Executed-Version":"$LATEST","X-Amz-Log-Result":"L",` +
		`"x-amzn-Remapped-Content-Length":"0","x-amzn-RequestId":"R","X-Amzn-Trace-Id":"T"},"HttpStatusCode":200},` +
		`"SdkResponseMetadata":{"RequestId":"R"},"StatusCode":200}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// Deliberately not in Lambda's order: the result must not depend on it.
		for _, kv := range [][2]string{{"Content-Type", "application/json"}, {"X-Amzn-Trace-Id", "T"},
			{"x-amzn-RequestId", "R"}, {"Date", "D"}, {"X-Amz-Log-Result", "L"}, {"Connection", "keep-alive"},
			{"x-amzn-Remapped-Content-Length", "0"}, {"X-Amz-Executed-Version", "$LATEST"}} {
			h[kv[0]] = []string{kv[1]}
		}
		io.WriteString(w, "{}")
	}))
	defer srv.Close()
	got, err := lambda.New(srv.URL, nil).Invoke(context.Background(), task("arn:aws:states:::lambda:invoke", `{"FunctionName":"f"}`))
	if err != nil {
		t.Fatal(err)
	}
	if s := value.String(got); s != recorded {
		t.Errorf("result\n got: %s\nwant: %s", s, recorded)
	}
	// The recording is valid JSON with the same content.
	var a, b any
	if json.Unmarshal([]byte(recorded), &a) != nil || json.Unmarshal([]byte(value.String(got)), &b) != nil {
		t.Fatal("invalid JSON")
	}
}

func FuzzHandles(f *testing.F) {
	for _, s := range []string{fnARN + "f", fnARN + "f:1", "arn:aws:states:::lambda:invoke", "arn::::::", "arn:aws:lambda:::function:x:y:z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lambda.Handles(s) // must not panic
	})
}
