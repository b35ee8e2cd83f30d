package httptask

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/internal/clock"
	"github.com/stepwell/stepwell/value"
)

// seen is the last request a test server received.
type seen struct {
	mu     sync.Mutex
	method string
	query  string
	header http.Header
	body   string
}

func server(t *testing.T, status int, contentType, body string) (*httptest.Server, *seen) {
	t.Helper()
	s := &seen{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.method, s.query, s.header, s.body = r.Method, r.URL.RawQuery, r.Header.Clone(), string(b)
		s.mu.Unlock()
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.Header().Set("X-Custom", "yes")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, s
}

func task(params string) *engine.Task {
	return &engine.Task{Resource: Resource, Input: value.MustParse(params), Region: "eu-west-1"}
}

func TestInvokeJSON(t *testing.T) {
	srv, s := server(t, 200, "application/json", `{"id":7,"tags":["a"]}`)
	conns := Connections{"arn:conn": {Headers: []Param{{"Authorization", "Basic dTpw"}}, QueryParameters: []Param{{"key", "conn"}}}}
	inv := New(conns)
	res, err := inv.Invoke(context.Background(), task(`{"ApiEndpoint":"`+srv.URL+`/items?x=1","Method":"POST",
		"Authentication":{"ConnectionArn":"arn:conn"},
		"Headers":{"X-Trace":"t1","X-Num":5},
		"QueryParameters":{"key":"task","q":"a b"},
		"RequestBody":{"name":"n","n":1.5}}`))
	if err != nil {
		t.Fatal(err)
	}
	o := res.(*value.Object)
	if got := strings.Join(o.Keys(), ","); got != "Headers,ResponseBody,StatusCode,StatusText" {
		t.Errorf("keys %s", got)
	}
	if got := value.String(mustGet(o, "ResponseBody")); got != `{"id":7,"tags":["a"]}` {
		t.Errorf("ResponseBody %s", got)
	}
	if mustGet(o, "StatusCode") != int64(200) || mustGet(o, "StatusText") != "OK" {
		t.Errorf("status %v %v", mustGet(o, "StatusCode"), mustGet(o, "StatusText"))
	}
	if got := value.String(mustGet(mustGet(o, "Headers").(*value.Object), "x-custom")); got != `["yes"]` {
		t.Errorf("x-custom header %s", got)
	}
	if s.method != "POST" || s.body != `{"name":"n","n":1.5}` {
		t.Errorf("request %s %s", s.method, s.body)
	}
	if s.query != "key=conn&q=a+b&x=1" {
		t.Errorf("query %q", s.query)
	}
	for k, want := range map[string]string{
		"Authorization": "Basic dTpw", "X-Trace": "t1", "X-Num": "5", "Content-Type": "application/json; charset=UTF-8",
		"User-Agent": "Amazon|StepFunctions|HttpInvoke|eu-west-1", "Range": "bytes=0-262144",
	} {
		if got := s.header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
}

func mustGet(o *value.Object, k string) any {
	v, _ := o.Get(k)
	return v
}

func TestURLEncoded(t *testing.T) {
	tests := []struct{ format, want string }{
		{"INDICES", "a%5B0%5D=x&a%5B1%5D=y&o%5Bk%5D=v&s=1+2&token=c"},
		{"REPEAT", "a=x&a=y&o%5Bk%5D=v&s=1+2&token=c"},
		{"COMMAS", "a=x%2Cy&o%5Bk%5D=v&s=1+2&token=c"},
		{"BRACKETS", "a%5B%5D=x&a%5B%5D=y&o%5Bk%5D=v&s=1+2&token=c"},
	}
	for _, tt := range tests {
		srv, s := server(t, 200, "text/plain", "ok")
		inv := New(Connections{"arn:c": {BodyParameters: []Param{{"token", "c"}}}})
		res, err := inv.Invoke(context.Background(), task(`{"ApiEndpoint":"`+srv.URL+`","Method":"PUT",
			"InvocationConfig":{"ConnectionArn":"arn:c"},
			"Headers":{"content-type":"application/x-www-form-urlencoded"},
			"RequestBody":{"a":["x","y"],"o":{"k":"v"},"s":"1 2","token":"task"},
			"Transform":{"RequestBodyEncoding":"URL_ENCODED","RequestEncodingOptions":{"ArrayFormat":"`+tt.format+`"}}}`))
		if err != nil {
			t.Fatal(err)
		}
		if s.body != tt.want {
			t.Errorf("%s: body %q, want %q", tt.format, s.body, tt.want)
		}
		if rb := mustGet(res.(*value.Object), "ResponseBody"); rb != "ok" {
			t.Errorf("text ResponseBody %v", rb)
		}
	}
}

func TestErrors(t *testing.T) {
	notFound, _ := server(t, 404, "application/json", `{"message":"nope"}`)
	binary, _ := server(t, 200, "image/png", "\x89PNG")
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}))
	defer slow.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	tests := []struct {
		name, params, wantName, wantCause string
	}{
		{"status", `{"ApiEndpoint":"` + notFound.URL + `","Method":"GET"}`, "States.Http.StatusCode.404", `"ResponseBody":{"message":"nope"},"StatusCode":404,"StatusText":"Not Found"`},
		{"binary", `{"ApiEndpoint":"` + binary.URL + `","Method":"GET"}`, fault.Runtime, "not text"},
		{"refused", `{"ApiEndpoint":"` + closed.URL + `","Method":"GET"}`, "States.Http.Socket", "refused"},
		{"forbidden header", `{"ApiEndpoint":"` + notFound.URL + `","Method":"GET","Headers":{"Authorization":"x"}}`, fault.Runtime, "'Authorization' is not allowed"},
		{"amz header", `{"ApiEndpoint":"` + notFound.URL + `","Method":"GET","Headers":{"X-Amz-Date":"x"}}`, fault.Runtime, "not allowed"},
		{"method", `{"ApiEndpoint":"` + notFound.URL + `","Method":"TRACE"}`, fault.Runtime, "Method 'TRACE'"},
		{"no endpoint", `{"Method":"GET"}`, fault.Runtime, "'ApiEndpoint' is required"},
		{"bad url", `{"ApiEndpoint":"ftp://x","Method":"GET"}`, fault.Runtime, "not a valid http"},
		{"string body with connection params", `{"ApiEndpoint":"` + notFound.URL + `","Method":"POST","Authentication":{"ConnectionArn":"arn:b"},"RequestBody":"raw"}`, fault.Runtime, "must be an object"},
		{"bad encoding", `{"ApiEndpoint":"` + notFound.URL + `","Method":"POST","Transform":{"RequestBodyEncoding":"GZIP"}}`, fault.Runtime, "NONE or URL_ENCODED"},
	}
	inv := New(Connections{"arn:b": {BodyParameters: []Param{{"k", "v"}}}})
	for _, tt := range tests {
		_, err := inv.Invoke(context.Background(), task(tt.params))
		var fe *fault.Error
		if !errors.As(err, &fe) || fe.Name != tt.wantName || !strings.Contains(fe.Cause, tt.wantCause) {
			t.Errorf("%s: err = %v, want %s containing %q", tt.name, err, tt.wantName, tt.wantCause)
		}
	}
	// The client's timeout (waiting for it is the behaviour under test);
	// only this request gets a short one, so that a loaded machine does not
	// time out the others.
	inv.Client = &http.Client{Timeout: 100 * time.Millisecond}
	_, err := inv.Invoke(context.Background(), task(`{"ApiEndpoint":"`+slow.URL+`","Method":"GET"}`))
	if fe := (*fault.Error)(nil); !errors.As(err, &fe) || fe.Name != "States.Http.Socket" || !strings.Contains(fe.Cause, "Timeout") {
		t.Errorf("timeout: err = %v, want States.Http.Socket containing \"Timeout\"", err)
	}
}

func TestConnections(t *testing.T) {
	c, err := ParseConnections([]byte(`{
		"arn:a": {"BasicAuth": {"Username": "u", "Password": "p"}, "QueryParameters": {"q": "1"}},
		"arn:b": {"ApiKey": {"Name": "x-api-key", "Value": "k"}, "BodyParameters": {"b": "2"}},
		"arn:c": {"OAuth": {"AccessToken": "tok"}, "Headers": {"X-Org": "o"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := c["arn:a"].Headers; len(got) != 1 || got[0] != (Param{"Authorization", "Basic dTpw"}) {
		t.Errorf("basic %v", got)
	}
	if got := c["arn:b"].Headers; len(got) != 1 || got[0] != (Param{"x-api-key", "k"}) || c["arn:b"].BodyParameters[0].Value != "2" {
		t.Errorf("api key %v", c["arn:b"])
	}
	if got := c["arn:c"].Headers; len(got) != 2 || got[0] != (Param{"Authorization", "Bearer tok"}) {
		t.Errorf("oauth %v", got)
	}
	for _, bad := range []string{`[]`, `{"a":1}`, `{"a":{"Nope":{}}}`, `{"a":{"Headers":{"h":1}}}`, `{"a":{"BasicAuth":{"Username":"u"}}}`} {
		if _, err := ParseConnections([]byte(bad)); err == nil {
			t.Errorf("ParseConnections(%s): want an error", bad)
		}
	}
}

func TestHandles(t *testing.T) {
	if !Handles("arn:aws:states:::http:invoke") || !Handles("arn:aws-us-gov:states:::http:invoke") ||
		Handles("arn:aws:states:::http:invoke.waitForTaskToken") || Handles("http:invoke") {
		t.Error("Handles")
	}
}

func FuzzParseConnections(f *testing.F) {
	f.Add([]byte(`{"arn:a":{"BasicAuth":{"Username":"u","Password":"p"},"Headers":{"h":"v"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ParseConnections(data)
	})
}

func FuzzBuild(f *testing.F) {
	f.Add(`{"ApiEndpoint":"http://127.0.0.1:1/x","Method":"POST","RequestBody":{"a":[1,{"b":2}]},"Transform":{"RequestBodyEncoding":"URL_ENCODED"}}`)
	f.Fuzz(func(t *testing.T, params string) {
		v, err := value.ParseString(params)
		if err != nil {
			return
		}
		inv := New(nil)
		_, _, _ = inv.build(context.Background(), &engine.Task{Resource: Resource, Input: v})
	})
}

func TestResponseBodyByContentType(t *testing.T) {
	for _, tt := range []struct{ ct, body, want string }{
		{"application/json; charset=utf-8", `{"a":1}`, `{"a":1}`},
		{"application/problem+json", `{"a":1}`, `{"a":1}`},
		{"text/plain", `{"a":1}`, `"{\"a\":1}"`},
		{"application/json", `not json`, `"not json"`},
		{"", ``, `""`},
	} {
		srv, _ := server(t, 200, tt.ct, tt.body)
		res, err := New(nil).Invoke(context.Background(), task(`{"ApiEndpoint":"`+srv.URL+`","Method":"GET"}`))
		if err != nil {
			t.Fatal(err)
		}
		if got := value.String(mustGet(res.(*value.Object), "ResponseBody")); got != tt.want {
			t.Errorf("%q %q: ResponseBody %s, want %s", tt.ct, tt.body, got, tt.want)
		}
	}
}

func TestOAuthClientCredentials(t *testing.T) {
	var mu sync.Mutex
	tokenCalls := 0
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		tokenCalls++
		mu.Unlock()
		id, secret, ok := r.BasicAuth()
		_ = r.ParseForm()
		if !ok || id != "cid" || secret != "cs" || r.PostForm.Get("grant_type") != "client_credentials" ||
			r.PostForm.Get("scope") != "orders" || r.URL.Query().Get("audience") != "api" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"invalid_client"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"tok-1","token_type":"Bearer","expires_in":3600}`)
	}))
	defer tokens.Close()
	api, s := server(t, 200, "application/json", `{}`)
	conns, err := ParseConnections([]byte(`{
		"arn:ok": {"OAuth": {"AuthorizationEndpoint": "` + tokens.URL + `/token", "ClientID": "cid", "ClientSecret": "cs",
			"BodyParameters": {"scope": "orders"}, "QueryParameters": {"audience": "api"}}},
		"arn:bad": {"OAuth": {"AuthorizationEndpoint": "` + tokens.URL + `/token", "ClientID": "cid", "ClientSecret": "wrong"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC)
	c := clock.NewFake(t0)
	conns["arn:ok"].OAuth.Clock = c
	inv := New(conns)
	// expires_in 3600: reused until 30s before it expires, then renewed.
	for _, step := range []struct {
		advance time.Duration
		calls   int
	}{{0, 1}, {0, 1}, {3570*time.Second - time.Nanosecond, 1}, {time.Nanosecond, 2}, {time.Second, 2}} {
		c.Advance(step.advance)
		if _, err := inv.Invoke(context.Background(), task(`{"ApiEndpoint":"`+api.URL+`","Method":"GET","InvocationConfig":{"ConnectionArn":"arn:ok"}}`)); err != nil {
			t.Fatal(err)
		}
		if got := s.header.Get("Authorization"); got != "Bearer tok-1" {
			t.Errorf("Authorization = %q", got)
		}
		mu.Lock()
		calls := tokenCalls
		mu.Unlock()
		if calls != step.calls {
			t.Errorf("at +%v: token requests = %d, want %d", c.Now().Sub(t0), calls, step.calls)
		}
	}
	_, err = inv.Invoke(context.Background(), task(`{"ApiEndpoint":"`+api.URL+`","Method":"GET","Authentication":{"ConnectionArn":"arn:bad"}}`))
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Name != "Events.ConnectionResource.InvalidConnectionState" || !strings.Contains(fe.Cause, "invalid_client") {
		t.Errorf("bad credentials: %v", err)
	}
	for _, bad := range []string{`{"a":{"OAuth":{"ClientID":"x"}}}`, `{"a":{"OAuth":{"AuthorizationEndpoint":"u","ClientID":"i","ClientSecret":"s","HttpMethod":"DELETE"}}}`} {
		if _, err := ParseConnections([]byte(bad)); err == nil {
			t.Errorf("ParseConnections(%s): want an error", bad)
		}
	}
}
