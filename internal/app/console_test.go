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

// TestNew_Console: the web console answers GET / (and its addresses) next
// to the API on POST /, unless Config.Console is off.
func TestNew_Console(t *testing.T) {
	for _, on := range []bool{true, false} {
		cfg := app.DefaultConfig()
		cfg.Store = "memory"
		cfg.Console = on
		srv, err := app.New(context.Background(), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = srv.Close(context.Background()) })
		hs := httptest.NewServer(srv.Handler)
		t.Cleanup(hs.Close)
		want := map[string]int{"/": 404, "/executions/arn%3Aaws%3Astates%3Aus-east-1%3A123456789012%3Aexecution%3Ax%3Ay": 404, "/assets/app.js": 404, "/healthz": 200, "/nope": 404}
		if on {
			want["/"], want["/assets/app.js"] = 200, 200
			want["/executions/arn%3Aaws%3Astates%3Aus-east-1%3A123456789012%3Aexecution%3Ax%3Ay"] = 200
		}
		for path, code := range want {
			resp, err := http.Get(hs.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != code {
				t.Errorf("console %t: GET %s: %d, want %d", on, path, resp.StatusCode, code)
			}
		}
		req, _ := http.NewRequest(http.MethodPost, hs.URL+"/", strings.NewReader("{}"))
		req.Header.Set("X-Amz-Target", "AWSStepFunctions.ListStateMachines")
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != `{"stateMachines":[]}` {
			t.Errorf("console %t: ListStateMachines %d %s", on, resp.StatusCode, b)
		}
	}
}
