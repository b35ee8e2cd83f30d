package app_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stepwell/stepwell/internal/app"
)

// corsServer serves the API with the given --cors-origin.
func corsServer(t *testing.T, origins string) string {
	t.Helper()
	cfg := app.DefaultConfig()
	cfg.Store = "memory"
	cfg.CORSOrigins = origins
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := app.New(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close(context.Background()) })
	hs := httptest.NewServer(srv.Handler)
	t.Cleanup(hs.Close)
	return hs.URL
}

// sdkPreflight is the preflight a browser sends before the AWS SDK for
// JavaScript's StartExecution (signed, with temporary credentials).
func sdkPreflight(t *testing.T, url, origin string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodOptions, url+"/", nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers",
		"amz-sdk-invocation-id,amz-sdk-request,authorization,content-type,x-amz-date,x-amz-security-token,x-amz-target,x-amz-user-agent")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// listMachines is the request the SDK sends after the preflight.
func listMachines(t *testing.T, url, origin string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/", strings.NewReader("{}"))
	req.Header.Set("Origin", origin)
	req.Header.Set("X-Amz-Target", "AWSStepFunctions.ListStateMachines")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != `{"stateMachines":[]}` {
		t.Errorf("ListStateMachines from %s: %d %s", origin, resp.StatusCode, b)
	}
	return resp
}

// TestCORS: with --cors-origin, a browser page of an allowed origin gets
// its preflight answered with every header the AWS SDK for JavaScript
// sends, and the API's answers carry Access-Control-Allow-Origin and expose
// the request id and error type; another origin's preflight is refused and
// its answers carry no CORS header; without --cors-origin (the default), no
// CORS at all.
func TestCORS(t *testing.T) {
	const app1 = "https://console.example.com"
	url := corsServer(t, app1+", http://localhost:5173")

	resp := sdkPreflight(t, url, app1)
	h := resp.Header
	if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != app1 ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") || h.Get("Access-Control-Max-Age") == "" {
		t.Errorf("preflight: %d %v", resp.StatusCode, h)
	}
	allowed := strings.Split(strings.ReplaceAll(h.Get("Access-Control-Allow-Headers"), " ", ""), ",")
	for _, want := range []string{"authorization", "x-amz-date", "x-amz-target", "x-amz-user-agent", "content-type",
		"x-amz-security-token", "amz-sdk-invocation-id", "amz-sdk-request"} {
		found := false
		for _, a := range allowed {
			found = found || a == want
		}
		if !found {
			t.Errorf("preflight allows %v, not %s", allowed, want)
		}
	}
	resp = listMachines(t, url, "http://localhost:5173")
	if resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" ||
		!strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "x-amzn-requestid") ||
		!strings.Contains(resp.Header.Get("Vary"), "Origin") {
		t.Errorf("answer headers %v", resp.Header)
	}

	// Another origin.
	if resp := sdkPreflight(t, url, "https://evil.example.com"); resp.StatusCode != http.StatusForbidden ||
		resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("foreign preflight: %d %v", resp.StatusCode, resp.Header)
	}
	if resp := listMachines(t, url, "https://evil.example.com"); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("foreign answer headers %v", resp.Header)
	}

	// Any origin.
	if resp := sdkPreflight(t, corsServer(t, "*"), "https://anywhere.example"); resp.StatusCode != http.StatusNoContent ||
		resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("* preflight: %d %v", resp.StatusCode, resp.Header)
	}

	// The default: no CORS.
	url = corsServer(t, "")
	if resp := sdkPreflight(t, url, app1); resp.StatusCode == http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight without --cors-origin: %d %v", resp.StatusCode, resp.Header)
	}
	if resp := listMachines(t, url, app1); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("answer without --cors-origin: %v", resp.Header)
	}
}
