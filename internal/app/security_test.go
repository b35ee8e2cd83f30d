package app

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/stepwell/stepwell/engine"
	awsint "github.com/stepwell/stepwell/integrations/aws"
	"github.com/stepwell/stepwell/value"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSecurity_Validate(t *testing.T) {
	creds := writeFile(t, "creds.json", `{"accessKeys": [{"accessKeyId": "AKIDTEST", "secretAccessKey": "s", "name": "t"}]}`)
	badCreds := writeFile(t, "bad.json", `{"accessKeys": []}`)
	tests := []struct {
		name  string
		addr  string
		s     Security
		field string // "" when valid
		msg   string
	}{
		{name: "loopback without credentials", addr: "127.0.0.1:8083"},
		{name: "localhost without credentials", addr: "localhost:0"},
		{name: "IPv6 loopback without credentials", addr: "[::1]:8083"},
		{name: "every interface without credentials", addr: "0.0.0.0:8083", field: "addr", msg: "is not a loopback address"},
		{name: "empty host without credentials", addr: ":8083", field: "addr", msg: "is not a loopback address"},
		{name: "a name without credentials", addr: "stepwell.example.com:8083", field: "addr"},
		{name: "every interface with credentials", addr: "0.0.0.0:8083", s: Security{Credentials: creds}},
		{name: "every interface, auth none", addr: "0.0.0.0:8083", s: Security{Auth: AuthNone}},
		{name: "auth none and credentials", addr: "127.0.0.1:1", s: Security{Auth: AuthNone, Credentials: creds}, field: "auth"},
		{name: "sigv4 without credentials", addr: "127.0.0.1:1", s: Security{Auth: AuthSigV4}, field: "credentials"},
		{name: "unknown mode", addr: "127.0.0.1:1", s: Security{Auth: "basic"}, field: "auth"},
		{name: "bad credentials", addr: "127.0.0.1:1", s: Security{Credentials: badCreds}, field: "credentials", msg: "no accessKeys"},
		{name: "missing credentials", addr: "127.0.0.1:1", s: Security{Credentials: "/nonexistent.json"}, field: "credentials"},
		{name: "cert without key", addr: "127.0.0.1:1", s: Security{TLSCert: "c.pem"}, field: "tls-cert"},
		{name: "CA bundle without PEM", addr: "127.0.0.1:1", s: Security{CABundle: badCreds}, field: "ca-bundle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := tt.s.validate(tt.addr)
			if tt.field == "" {
				if len(errs) != 0 {
					t.Fatalf("errors: %v", errs)
				}
				return
			}
			if len(errs) != 1 {
				t.Fatalf("errors %v, want one on %s", errs, tt.field)
			}
			var fe *FieldError
			if !errors.As(errs[0], &fe) || fe.Field != tt.field || !strings.Contains(fe.Error(), tt.msg) {
				t.Fatalf("error %v, want field %s with %q", errs[0], tt.field, tt.msg)
			}
		})
	}
}

func TestLoopbackHostOnly(t *testing.T) {
	h := loopbackHostOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	for host, want := range map[string]int{
		"127.0.0.1:8083": http.StatusNoContent, "localhost:8083": http.StatusNoContent, "[::1]:8083": http.StatusNoContent,
		"LOCALHOST.": http.StatusNoContent, "stepwell.localhost:1": http.StatusNoContent, "127.0.0.2": http.StatusNoContent,
		"sync-localhost:8083": http.StatusNoContent, "sync-stepwell.localhost": http.StatusNoContent,
		"evil.example.com:8083": http.StatusMisdirectedRequest, "10.0.0.1:8083": http.StatusMisdirectedRequest,
		"localhost.evil.com": http.StatusMisdirectedRequest, "": http.StatusMisdirectedRequest,
	} {
		// Twice, and after a loopback Host (the last accepted one is
		// remembered): the same answer each time.
		for _, h2 := range []string{host, "localhost:8083", host} {
			r := httptest.NewRequest(http.MethodPost, "/", nil)
			r.Host = h2
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if exp := map[bool]int{true: want, false: http.StatusNoContent}[h2 == host]; w.Code != exp {
				t.Errorf("Host %q: HTTP %d, want %d", h2, w.Code, exp)
			}
		}
	}
}

// TestOutboundClient_CABundle: a server whose certificate is signed by a
// private CA is reached with the CA in the bundle, and refused without it.
func TestOutboundClient_CABundle(t *testing.T) {
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
	defer ts.Close()
	bundle := writeFile(t, "ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})))
	get := func(c Config) error {
		resp, err := outboundClient(c, 0).Get(ts.URL)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := get(Config{}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without the bundle: %v", err)
	}
	if err := get(Config{Security: Security{CABundle: bundle}}); err != nil {
		t.Fatalf("with the bundle: %v", err)
	}
	if err := get(Config{Security: Security{CABundle: "/nonexistent.pem"}}); err == nil || !strings.Contains(err.Error(), "ca bundle") {
		t.Fatalf("with a missing bundle: %v", err)
	}
}

// TestInvoker_CABundle: Lambda tasks and AWS service tasks reach an
// endpoint whose certificate a private CA signed when --ca-bundle holds
// the CA, and not without it.
func TestInvoker_CABundle(t *testing.T) {
	var mu sync.Mutex
	var got []string
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		got = append(got, r.URL.Path+" "+r.Header.Get("X-Amz-Target"))
		mu.Unlock()
		w.WriteHeader(http.StatusTeapot)
	}))
	defer ts.Close()
	bundle := writeFile(t, "ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})))
	creds := &aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}
	tasks := map[string]*engine.Task{
		"/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:f/invocations ": {Resource: "arn:aws:lambda:us-east-1:123456789012:function:f", Region: "us-east-1",
			Input: value.NewObject(0)},
		"/ AmazonSQS.SendMessage": {Resource: "arn:aws:states:::sqs:sendMessage", Region: "us-east-1",
			Input: value.NewObject(2).With("QueueUrl", ts.URL+"/123456789012/q").With("MessageBody", "hi")},
	}
	for _, withBundle := range []bool{false, true} {
		c := Config{LambdaEndpoint: ts.URL, AWS: awsint.Config{Endpoints: map[string]string{"sqs": ts.URL}, Static: creds}}
		if withBundle {
			c.CABundle = bundle
		}
		inv, err := Invoker(c)
		if err != nil {
			t.Fatal(err)
		}
		for want, task := range tasks {
			mu.Lock()
			got = nil
			mu.Unlock()
			_, _ = inv.Invoke(context.Background(), task) // the endpoint answers 418 anyway
			mu.Lock()
			reached := len(got) > 0 && got[0] == want
			mu.Unlock()
			if reached != withBundle {
				t.Errorf("with the bundle %t: %s reached the endpoint: %t", withBundle, want, reached)
			}
		}
	}
}

func TestSecurity_Warnings(t *testing.T) {
	creds := writeFile(t, "creds.json", `{}`)
	if w := (Security{Credentials: creds}).warnings("0.0.0.0:1"); len(w) != 0 {
		t.Fatalf("0600 file: %q", w)
	}
	if err := os.Chmod(creds, 0o644); err != nil {
		t.Fatal(err)
	}
	if w := (Security{Credentials: creds}).warnings("0.0.0.0:1"); len(w) != 1 || !strings.Contains(w[0], "chmod 600") {
		t.Fatalf("0644 file: %q", w)
	}
	if w := (Security{Auth: AuthNone}).warnings("0.0.0.0:1"); len(w) != 1 || !strings.Contains(w[0], "--auth none") {
		t.Fatalf("auth none: %q", w)
	}
	if w := (Security{Auth: AuthNone}).warnings("127.0.0.1:1"); len(w) != 0 {
		t.Fatalf("auth none on loopback: %q", w)
	}
}

func TestSecurity_ChecksHost(t *testing.T) {
	for _, tt := range []struct {
		s    Security
		addr string
		want bool
	}{
		{Security{}, "127.0.0.1:8083", true},
		{Security{Auth: AuthNone}, "localhost:0", true},
		{Security{Credentials: "creds.json"}, "127.0.0.1:8083", false}, // signed requests: a proxy's Host is fine
		{Security{Auth: AuthNone}, "0.0.0.0:8083", false},
	} {
		if got := tt.s.checksHost(tt.addr); got != tt.want {
			t.Errorf("%+v on %s: %t, want %t", tt.s, tt.addr, got, tt.want)
		}
	}
}
