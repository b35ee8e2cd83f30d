package sigv4_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/stepwell/stepwell/api/sigv4"
)

const (
	keyID  = "AKIDSTEPWELLTEST0001"
	secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

func mustKeys(t testing.TB, doc string) *sigv4.Keys {
	t.Helper()
	ks, err := sigv4.ParseKeys([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// TestBotocoreVectors verifies requests signed by botocore (the signer of
// the AWS CLI and boto3), including one that signs User-Agent as the AWS
// SDKs for Java 1.x and C++ do, a path and query to encode, and a
// session token (testdata/botocore_vectors.py writes them).
func TestBotocoreVectors(t *testing.T) {
	data, err := os.ReadFile("testdata/botocore_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		AccessKeyID, SecretAccessKey, Now string
		Cases                             []struct {
			Name, Method, URL, Body, Token string
			Headers                        map[string]string
		}
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	now, _ := time.Parse("20060102T150405Z", doc.Now)
	for _, c := range doc.Cases {
		t.Run(c.Name, func(t *testing.T) {
			key := map[string]string{"accessKeyId": doc.AccessKeyID, "secretAccessKey": doc.SecretAccessKey, "sessionToken": c.Token}
			kb, _ := json.Marshal(map[string]any{"accessKeys": []any{key}})
			v := &sigv4.Verifier{Keys: mustKeys(t, string(kb)), Service: "states", Region: "us-east-1", Now: func() time.Time { return now }}
			r := httptest.NewRequest(c.Method, c.URL, strings.NewReader(c.Body))
			for k, val := range c.Headers {
				r.Header.Set(k, val)
			}
			got, err := v.Verify(r, []byte(c.Body), strings.HasPrefix(c.URL, "https:"))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got.AccessKeyID != doc.AccessKeyID {
				t.Fatalf("key %q", got.AccessKeyID)
			}
			// One byte more in the body: no longer the signed request.
			if _, err := v.Verify(r, []byte(c.Body+" "), strings.HasPrefix(c.URL, "https:")); kind(err) != sigv4.BadSignature {
				t.Fatalf("tampered body: %v", err)
			}
		})
	}
}

func kind(err error) sigv4.Kind {
	var e *sigv4.Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

var signedAt = time.Date(2026, 12, 7, 1, 2, 3, 0, time.UTC)

// signed returns a ListStateMachines request signed by the AWS SDK for Go
// v2's signer at signedAt, after edit (if any) changed it.
func signed(t *testing.T, id, key, token, region, service, payload string, body string, edit func(*http.Request)) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8083/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-amz-json-1.0")
	r.Header.Set("X-Amz-Target", "AWSStepFunctions.ListStateMachines")
	if edit != nil {
		edit(r)
	}
	if payload == "" {
		sum := sha256.Sum256([]byte(body))
		payload = hex.EncodeToString(sum[:])
	}
	creds := aws.Credentials{AccessKeyID: id, SecretAccessKey: key, SessionToken: token}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, payload, service, region, signedAt); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestVerify(t *testing.T) {
	keys := mustKeys(t, `{"accessKeys": [
		{"accessKeyId": "`+keyID+`", "secretAccessKey": "`+secret+`", "name": "ci"},
		{"accessKeyId": "TEMPKEY", "secretAccessKey": "s", "sessionToken": "tok"}]}`)
	const body = `{"maxResults":1}`
	tests := []struct {
		name    string
		req     func(t *testing.T) *http.Request
		body    string // default body
		now     time.Time
		secure  bool
		kind    sigv4.Kind // 0: verified
		message string     // prefix of the message
	}{
		{name: "signed by the SDK", req: func(t *testing.T) *http.Request {
			return signed(t, keyID, secret, "", "us-east-1", "states", "", body, nil)
		}},
		{name: "a minute later", now: signedAt.Add(time.Minute), req: func(t *testing.T) *http.Request {
			return signed(t, keyID, secret, "", "us-east-1", "states", "", body, nil)
		}},
		{name: "no Authorization", kind: sigv4.MissingToken, message: "Request is missing Authentication Token",
			req: func(t *testing.T) *http.Request { return httptest.NewRequest(http.MethodPost, "/", nil) }},
		{name: "unknown key", kind: sigv4.UnknownKey, message: "The security token included in the request is invalid.",
			req: func(t *testing.T) *http.Request {
				return signed(t, "AKIDUNKNOWN", secret, "", "us-east-1", "states", "", body, nil)
			}},
		{name: "wrong secret", kind: sigv4.BadSignature,
			message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'POST\n/\n\ncontent-length:16\ncontent-type:application/x-amz-json-1.0\nhost:127.0.0.1:8083\nx-amz-date:20261207T010203Z\nx-amz-target:AWSStepFunctions.ListStateMachines\n\ncontent-length;content-type;host;x-amz-date;x-amz-target\n",
			req: func(t *testing.T) *http.Request {
				return signed(t, keyID, "not the secret", "", "us-east-1", "states", "", body, nil)
			}},
		{name: "expired", now: signedAt.Add(15*time.Minute + time.Second), kind: sigv4.BadSignature,
			message: "Signature expired: 20261207T010203Z is now earlier than 20261207T010204Z (20261207T011704Z - 15 min.)",
			req: func(t *testing.T) *http.Request {
				return signed(t, keyID, secret, "", "us-east-1", "states", "", body, nil)
			}},
		{name: "not yet current", now: signedAt.Add(-16 * time.Minute), kind: sigv4.BadSignature,
			message: "Signature not yet current: 20261207T010203Z is still later than 20261207T010103Z (20261207T004603Z + 15 min.)",
			req: func(t *testing.T) *http.Request {
				return signed(t, keyID, secret, "", "us-east-1", "states", "", body, nil)
			}},
		{name: "tampered body", body: `{"maxResults":2}`, kind: sigv4.BadSignature, message: "The request signature we calculated",
			req: func(t *testing.T) *http.Request {
				return signed(t, keyID, secret, "", "us-east-1", "states", "", body, nil)
			}},
		{name: "other region", kind: sigv4.BadSignature, message: "Credential should be scoped to a valid region, not 'eu-west-1'. ",
			req: func(t *testing.T) *http.Request {
				return signed(t, keyID, secret, "", "eu-west-1", "states", "", body, nil)
			}},
		{name: "other service", kind: sigv4.BadSignature, message: "Credential should be scoped to correct service: 'states'. ",
			req: func(t *testing.T) *http.Request {
				return signed(t, keyID, secret, "", "us-east-1", "sqs", "", body, nil)
			}},
		{name: "token with a long-term key", kind: sigv4.UnknownKey, message: "The security token included in the request is invalid.",
			req: func(t *testing.T) *http.Request {
				return signed(t, keyID, secret, "sometoken", "us-east-1", "states", "", body, nil)
			}},
		{name: "temporary key with its token", req: func(t *testing.T) *http.Request {
			return signed(t, "TEMPKEY", "s", "tok", "us-east-1", "states", "", body, nil)
		}},
		{name: "temporary key without its token", kind: sigv4.UnknownKey, req: func(t *testing.T) *http.Request {
			return signed(t, "TEMPKEY", "s", "", "us-east-1", "states", "", body, nil)
		}},
		{name: "temporary key with another token", kind: sigv4.UnknownKey, req: func(t *testing.T) *http.Request {
			return signed(t, "TEMPKEY", "s", "tok2", "us-east-1", "states", "", body, nil)
		}},
		{name: "UNSIGNED-PAYLOAD over HTTPS", secure: true, body: "anything", req: func(t *testing.T) *http.Request {
			return signed(t, keyID, secret, "", "us-east-1", "states", sigv4.UnsignedPayload, body,
				func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", sigv4.UnsignedPayload) })
		}},
		{name: "UNSIGNED-PAYLOAD over HTTP", kind: sigv4.BadSignature, message: "UNSIGNED-PAYLOAD is accepted over HTTPS only",
			req: func(t *testing.T) *http.Request {
				return signed(t, keyID, secret, "", "us-east-1", "states", sigv4.UnsignedPayload, body,
					func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", sigv4.UnsignedPayload) })
			}},
		{name: "content hash of another body", kind: sigv4.BadSignature, message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
			req: func(t *testing.T) *http.Request {
				return signed(t, keyID, secret, "", "us-east-1", "states", strings.Repeat("0", 64), body,
					func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", strings.Repeat("0", 64)) })
			}},
		{name: "no date", kind: sigv4.Incomplete, message: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 ",
			req: func(t *testing.T) *http.Request {
				r := signed(t, keyID, secret, "", "us-east-1", "states", "", body, nil)
				r.Header.Del("X-Amz-Date")
				return r
			}},
		{name: "date not ISO-8601", kind: sigv4.Incomplete, message: "Date must be in ISO-8601 'basic format'. Got '2026-12-07'.",
			req: func(t *testing.T) *http.Request {
				r := signed(t, keyID, secret, "", "us-east-1", "states", "", body, nil)
				r.Header.Set("X-Amz-Date", "2026-12-07")
				return r
			}},
		{name: "scope of another day", kind: sigv4.BadSignature,
			message: "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20261207' != '20261206', from '20261206T235959Z'.",
			now:     time.Date(2026, 12, 6, 23, 59, 59, 0, time.UTC),
			req: func(t *testing.T) *http.Request {
				r := signed(t, keyID, secret, "", "us-east-1", "states", "", body, nil)
				r.Header.Set("X-Amz-Date", "20261206T235959Z")
				return r
			}},
		{name: "host not signed", kind: sigv4.BadSignature, message: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
			req: func(t *testing.T) *http.Request {
				r := signed(t, keyID, secret, "", "us-east-1", "states", "", body, nil)
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "host;", "", 1))
				return r
			}},
		{name: "two Authorization headers", kind: sigv4.Incomplete, req: func(t *testing.T) *http.Request {
			r := signed(t, keyID, secret, "", "us-east-1", "states", "", body, nil)
			r.Header.Add("Authorization", r.Header.Get("Authorization"))
			return r
		}},
		{name: "bearer token", kind: sigv4.Incomplete,
			message: "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=Bearer abc",
			req: func(t *testing.T) *http.Request {
				r := httptest.NewRequest(http.MethodPost, "/", nil)
				r.Header.Set("Authorization", "Bearer abc")
				return r
			}},
		{name: "short credential", kind: sigv4.Incomplete,
			message: "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'K/20261207/us-east-1'",
			req: func(t *testing.T) *http.Request {
				r := httptest.NewRequest(http.MethodPost, "/", nil)
				r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=K/20261207/us-east-1, SignedHeaders=host, Signature=00")
				return r
			}},
		{name: "no equal sign", kind: sigv4.Incomplete,
			message: "'SignedHeaders' not a valid key=value pair (missing equal-sign) in Authorization header: 'AWS4-HMAC-SHA256 Credential=K/a/b/c/d, SignedHeaders, Signature=00'.",
			req: func(t *testing.T) *http.Request {
				r := httptest.NewRequest(http.MethodPost, "/", nil)
				r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=K/a/b/c/d, SignedHeaders, Signature=00")
				return r
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.now
			if now.IsZero() {
				now = signedAt
			}
			v := &sigv4.Verifier{Keys: keys, Service: "states", Region: "us-east-1", Now: func() time.Time { return now }}
			b := body
			if tt.body != "" {
				b = tt.body
			}
			key, err := v.Verify(tt.req(t), []byte(b), tt.secure)
			if tt.kind == 0 {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if key == nil {
					t.Fatal("no key")
				}
				return
			}
			if kind(err) != tt.kind {
				t.Fatalf("got %v (kind %d), want kind %d", err, kind(err), tt.kind)
			}
			if !strings.HasPrefix(err.Error(), tt.message) {
				t.Fatalf("message\n%q\nwant prefix\n%q", err.Error(), tt.message)
			}
		})
	}
}

func TestParseKeys(t *testing.T) {
	for _, doc := range []string{
		``, `{}`, `{"accessKeys": []}`, `{"accessKeys": [null]}`,
		`{"accessKeys": [{"accessKeyId": "", "secretAccessKey": "s"}]}`,
		`{"accessKeys": [{"accessKeyId": "a/b", "secretAccessKey": "s"}]}`,
		`{"accessKeys": [{"accessKeyId": "a", "secretAccessKey": ""}]}`,
		`{"accessKeys": [{"accessKeyId": "a", "secretAccessKey": "s"}, {"accessKeyId": "a", "secretAccessKey": "t"}]}`,
		`{"accessKeys": [{"accessKeyId": "a", "secretAccessKey": "s", "secret": "typo"}]}`,
	} {
		if _, err := sigv4.ParseKeys([]byte(doc)); err == nil {
			t.Errorf("ParseKeys(%s): no error", doc)
		}
	}
	ks := mustKeys(t, `{"accessKeys": [{"accessKeyId": "a", "secretAccessKey": "s"}, {"accessKeyId": "b_2", "secretAccessKey": "t", "name": "ro", "readOnly": true}]}`)
	if ks.Len() != 2 {
		t.Fatalf("Len %d", ks.Len())
	}
}

// FuzzParseAuthorization: any header parses or fails with an Incomplete
// *Error; a parsed one has its five scope elements and signed headers.
func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/states/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc")
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/e,SignedHeaders=host,Signature=")
	f.Add("Bearer x")
	f.Add("AWS4-HMAC-SHA256 Credential=, SignedHeaders=;;, Signature")
	f.Add("")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := sigv4.ParseAuthorization(h)
		if err != nil {
			if kind(err) != sigv4.Incomplete {
				t.Fatalf("error of kind %d: %v", kind(err), err)
			}
			return
		}
		if a.AccessKeyID == "" || len(a.SignedHeaders) == 0 || strings.Count(a.Scope(), "/") != 3 {
			t.Fatalf("parsed %q as %+v", h, a)
		}
		for _, n := range a.SignedHeaders {
			if n == "" {
				t.Fatalf("empty signed header in %q", h)
			}
		}
	})
}

// FuzzVerify: any Authorization header, date and body are verified or
// refused with one of the kinds, never a panic; a request signed by the
// SDK still verifies with the fuzzed extra header unsigned.
func FuzzVerify(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential="+keyID+"/20261207/us-east-1/states/aws4_request, SignedHeaders=host;x-amz-date;x-junk, Signature=00", "20261207T010203Z", "{}", "v")
	f.Add("AWS4-HMAC-SHA256 Credential="+keyID+"/2/us-east-1/states/aws4_request, SignedHeaders=host, Signature=00", "2", "", "")
	keys := mustKeys(f, `{"accessKeys": [{"accessKeyId": "`+keyID+`", "secretAccessKey": "`+secret+`"}]}`)
	v := &sigv4.Verifier{Keys: keys, Service: "states", Region: "us-east-1", Now: func() time.Time { return signedAt }}
	f.Fuzz(func(t *testing.T, authz, date, body, junk string) {
		r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8083/", bytes.NewReader([]byte(body)))
		r.Header.Set("Authorization", authz)
		r.Header.Set("X-Amz-Date", date)
		r.Header.Set("X-Junk", junk)
		if _, err := v.Verify(r, []byte(body), false); err != nil && kind(err) == 0 {
			t.Fatalf("error without a kind: %v", err)
		}
	})
}

// BenchmarkVerify measures verifying a ListStateMachines request signed by
// the SDK (what every authenticated request costs the server).
func BenchmarkVerify(b *testing.B) {
	keys := mustKeys(b, `{"accessKeys": [{"accessKeyId": "`+keyID+`", "secretAccessKey": "`+secret+`"}]}`)
	v := &sigv4.Verifier{Keys: keys, Service: "states", Region: "us-east-1", Now: func() time.Time { return signedAt }}
	body := []byte(`{"stateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:hello","input":"{\"name\":\"bench\"}"}`)
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8083/", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/x-amz-json-1.0")
	r.Header.Set("X-Amz-Target", "AWSStepFunctions.StartExecution")
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), "states", "us-east-1", signedAt); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r, body, false); err != nil {
			b.Fatal(err)
		}
	}
}
