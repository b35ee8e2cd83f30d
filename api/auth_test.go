package api_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/stepwell/stepwell/api"
	"github.com/stepwell/stepwell/api/sigv4"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/integrations"
	"github.com/stepwell/stepwell/integrations/tasktoken"
	"github.com/stepwell/stepwell/store/memory"
)

// authServer serves newServer's API behind Authenticated with two keys:
// "admin" and the read-only "viewer".
func authServer(t *testing.T) *httptest.Server {
	t.Helper()
	keys, err := sigv4.ParseKeys([]byte(`{"accessKeys": [
		{"accessKeyId": "AKIDADMIN", "secretAccessKey": "admin-secret", "name": "admin"},
		{"accessKeyId": "AKIDVIEWER", "secretAccessKey": "viewer-secret", "name": "viewer", "readOnly": true}]}`))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(newServer(t).Authenticated(keys))
	t.Cleanup(hs.Close)
	return hs
}

func sdkClient(url, id, secret string, opts ...func(*sfn.Options)) *sfn.Client {
	return sfn.New(sfn.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider(id, secret, ""),
		RetryMaxAttempts: 1,
	}, opts...)
}

// apiCode returns the AWS error code and HTTP status of err.
func apiCode(err error) (string, int) {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return "", 0
	}
	status := 0
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return ae.ErrorCode(), status
}

func TestAuthenticated_SDK(t *testing.T) {
	hs := authServer(t)
	ctx := context.Background()
	if _, err := sdkClient(hs.URL, "AKIDADMIN", "admin-secret").ListStateMachines(ctx, &sfn.ListStateMachinesInput{}); err != nil {
		t.Fatalf("signed with a configured key: %v", err)
	}
	tests := []struct {
		name   string
		client *sfn.Client
		code   string
		msg    string
	}{
		{"unknown key", sdkClient(hs.URL, "AKIDNOBODY", "x"), "UnrecognizedClientException", "The security token included in the request is invalid."},
		{"wrong secret", sdkClient(hs.URL, "AKIDADMIN", "not-the-secret"), "InvalidSignatureException",
			"The request signature we calculated does not match the signature you provided."},
		{"anonymous", sdkClient(hs.URL, "", "", func(o *sfn.Options) { o.Credentials = aws.AnonymousCredentials{} }),
			"MissingAuthenticationTokenException", "Request is missing Authentication Token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.client.ListStateMachines(ctx, &sfn.ListStateMachinesInput{})
			code, status := apiCode(err)
			if code != tt.code || status != http.StatusBadRequest || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("got %s (HTTP %d): %v; want %s (HTTP 400) %q", code, status, err, tt.code, tt.msg)
			}
		})
	}
}

func TestAuthenticated_ReadOnly(t *testing.T) {
	hs := authServer(t)
	ctx := context.Background()
	viewer := sdkClient(hs.URL, "AKIDVIEWER", "viewer-secret")
	if _, err := viewer.ListStateMachines(ctx, &sfn.ListStateMachinesInput{}); err != nil {
		t.Fatalf("a read-only key lists: %v", err)
	}
	_, err := viewer.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String("m"), Definition: aws.String(passDef), RoleArn: aws.String(role)})
	code, _ := apiCode(err)
	want := "User: arn:aws:iam::111111111111:user/viewer is not authorized to perform: states:CreateStateMachine because no identity-based policy allows the states:CreateStateMachine action"
	if code != "AccessDeniedException" || !strings.Contains(err.Error(), want) {
		t.Fatalf("read-only key creates: %v", err)
	}
	admin := sdkClient(hs.URL, "AKIDADMIN", "admin-secret")
	if _, err := admin.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String("m"), Definition: aws.String(passDef), RoleArn: aws.String(role)}); err != nil {
		t.Fatalf("admin creates: %v", err)
	}
}

// TestAuthenticated_Expired signs a request 20 minutes ago.
func TestAuthenticated_Expired(t *testing.T) {
	hs := authServer(t)
	c := sdkClient(hs.URL, "AKIDADMIN", "admin-secret", func(o *sfn.Options) {
		o.HTTPSignerV4 = skewedSigner{v4.NewSigner(), -20 * time.Minute}
	})
	_, err := c.ListStateMachines(context.Background(), &sfn.ListStateMachinesInput{})
	code, _ := apiCode(err)
	if code != "InvalidSignatureException" || !strings.Contains(err.Error(), "Signature expired: ") ||
		!strings.Contains(err.Error(), " - 15 min.)") {
		t.Fatalf("expired: %v", err)
	}
}

// skewedSigner signs as the SDK does, at a time off by skew.
type skewedSigner struct {
	s    *v4.Signer
	skew time.Duration
}

func (s skewedSigner) SignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, t time.Time, opts ...func(*v4.SignerOptions)) error {
	return s.s.SignHTTP(ctx, creds, r, payloadHash, service, region, t.Add(s.skew), opts...)
}

// TestAuthenticated_Oversize refuses a body declared larger than the API
// accepts before reading any of it: the client never sends one byte, and
// the answer still comes.
func TestAuthenticated_Oversize(t *testing.T) {
	hs := authServer(t)
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, hs.URL, pr)
	req.ContentLength = 64 << 20
	req.Header.Set("X-Amz-Target", "AWSStepFunctions.ListStateMachines")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("X-Amzn-ErrorType") != "ValidationException" {
		t.Fatalf("HTTP %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
}

// TestBodyTimeout: a client that stops halfway through its body is
// answered (SerializationException) once the body timeout passes, instead
// of holding the connection and its handler.
func TestBodyTimeout(t *testing.T) {
	eng := engine.New(engine.Config{Region: "us-east-1", AccountID: "111111111111"})
	s := newAPI(t, executions.Config{Store: memory.New(memory.Options{}), Engine: eng, Express: memory.New(memory.Options{MaxClosedExecutions: 1})},
		api.Config{BodyTimeout: 200 * time.Millisecond})
	hs := httptest.NewServer(s)
	defer hs.Close()
	conn, err := net.Dial("tcp", hs.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = io.WriteString(conn, "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: AWSStepFunctions.ListStateMachines\r\n"+
		"Content-Type: application/x-amz-json-1.0\r\nContent-Length: 100\r\n\r\n{\"maxRe")
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer within 10 s: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("X-Amzn-ErrorType") != "SerializationException" {
		t.Fatalf("HTTP %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
}

// TestBodyTimeout_NotAfterTheBody: the body timeout bounds the body's
// arrival only. A long poll that outlasts it, over a real connection, is
// still answered with the task that arrives after it (were the deadline
// left on the connection, net/http's watch of the connection would fail
// and cancel the request).
func TestBodyTimeout_NotAfterTheBody(t *testing.T) {
	acts := memory.NewActivities()
	b := tasktoken.New(acts)
	router := integrations.NewRouter()
	router.Handle(tasktoken.IsActivity, b.Activities())
	tasks := b.Guard(router)
	eng := engine.New(engine.Config{Region: "us-east-1", AccountID: "111111111111", Invoker: tasks, Checker: tasks, Resumer: tasks})
	const bodyTimeout = 50 * time.Millisecond
	s := newAPI(t, executions.Config{Store: memory.New(memory.Options{}), Engine: eng, Tasks: b, PollTimeout: time.Minute},
		api.Config{Activities: acts, BodyTimeout: bodyTimeout})
	hs := httptest.NewServer(s)
	defer hs.Close()
	act := ok(t, s, "CreateActivity", `{"name":"work"}`)["activityArn"].(string)
	sm := create(t, s, "m", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"`+act+`","End":true}}}`, "")
	polled := make(chan string, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, hs.URL, strings.NewReader(`{"activityArn":"`+act+`"}`))
		req.Header.Set("X-Amz-Target", "AWSStepFunctions.GetActivityTask")
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		resp, err := hs.Client().Do(req)
		if err != nil {
			polled <- err.Error()
			return
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		polled <- string(raw)
	}()
	// The behaviour under test is time passing: the poll outlives the
	// body timeout before a task arrives.
	time.Sleep(4 * bodyTimeout)
	ok(t, s, "StartExecution", `{"stateMachineArn":"`+sm+`","input":"{\"n\":1}"}`)
	select {
	case got := <-polled:
		if !strings.Contains(got, `"taskToken"`) {
			t.Fatalf("GetActivityTask answered %s, want the task", got)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("GetActivityTask did not answer")
	}
}
