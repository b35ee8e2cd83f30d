package console_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stepwell/stepwell/console"
)

func get(t *testing.T, h http.Handler, method, path string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Result()
}

func TestHandler_Routes(t *testing.T) {
	h := console.Handler()
	execArn := "arn:aws:states:us-east-1:123456789012:execution:demo:run-1"
	tests := []struct {
		method, path string
		code         int
		ctype        string // prefix
		body         string // substring
	}{
		{"GET", "/", 200, "text/html", `<script type="module" src="/assets/app.js">`},
		{"HEAD", "/", 200, "text/html", ""},
		{"GET", "/state-machines", 200, "text/html", "Stepwell console"},
		{"GET", "/state-machines/" + url.PathEscape("arn:aws:states:us-east-1:123456789012:stateMachine:demo"), 200, "text/html", "Stepwell console"},
		{"GET", "/executions/" + url.PathEscape(execArn), 200, "text/html", "Stepwell console"},
		{"GET", "/editor", 200, "text/html", ""},
		{"GET", "/activities", 200, "text/html", ""},
		{"GET", "/map-runs/" + url.PathEscape(execArn), 200, "text/html", ""},
		{"GET", "/assets/app.js", 200, "text/javascript", "import"},
		{"GET", "/assets/editor.js", 200, "text/javascript", "ValidateStateMachineDefinition"},
		{"GET", "/assets/style.css", 200, "text/css", "--s-fail-line"},
		{"GET", "/assets/vendor/dagre.min.js", 200, "text/javascript", "dagre"},
		{"GET", "/assets/vendor/dagre.LICENSE", 200, "text/plain", "Chris Pettitt"},
		{"GET", "/assets/favicon.svg", 200, "image/svg+xml", "<svg"},
		// Not the console's: not found, so other GET handlers and 404s
		// stay what they were.
		{"GET", "/debug/pprof/cmdline", 404, "", ""},
		{"GET", "/metrics", 404, "", ""},
		{"GET", "/assets/", 404, "", ""},
		{"GET", "/assets/nope.js", 404, "", ""},
		{"GET", "/assets/../console.go", 404, "", ""},
		{"GET", "/index.html", 404, "", ""},
		{"POST", "/", 405, "", ""},
		{"DELETE", "/editor", 405, "", ""},
	}
	for _, tc := range tests {
		resp := get(t, h, tc.method, tc.path)
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != tc.code {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, resp.StatusCode, tc.code)
			continue
		}
		if ct := resp.Header.Get("Content-Type"); tc.ctype != "" && !strings.HasPrefix(ct, tc.ctype) {
			t.Errorf("%s %s: Content-Type %q, want %s…", tc.method, tc.path, ct, tc.ctype)
		}
		if tc.body != "" && !strings.Contains(string(b), tc.body) {
			t.Errorf("%s %s: body lacks %q", tc.method, tc.path, tc.body)
		}
		if tc.code == 200 && resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s %s: no nosniff", tc.method, tc.path)
		}
	}
}

func TestHandler_PageHeaders(t *testing.T) {
	h := console.Handler()
	resp := get(t, h, "GET", "/")
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("Content-Security-Policy allows inline code: %q", csp)
	}
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if r := get(t, h, "GET", "/", "If-None-Match", etag); r.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", r.StatusCode)
	}
}

// TestAssets_Referenced checks that every asset the page and the modules
// name is embedded (the console has no build step that could catch it).
func TestAssets_Referenced(t *testing.T) {
	h := console.Handler()
	seen := map[string]bool{}
	queue := []string{"/"}
	ref := regexp.MustCompile(`(?:src|href)="(/assets/[^"]+)"|from '\./([^']+)'`)
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		resp := get(t, h, "GET", p)
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		for _, m := range ref.FindAllStringSubmatch(string(b), -1) {
			if m[1] != "" {
				queue = append(queue, m[1])
			} else {
				queue = append(queue, "/assets/"+m[2])
			}
		}
	}
	for _, want := range []string{"/assets/app.js", "/assets/ui.js", "/assets/machines.js", "/assets/execution.js", "/assets/editor.js", "/assets/codeeditor.js", "/assets/resources.js", "/assets/graph.js", "/assets/status.js", "/assets/json.js", "/assets/sigv4.js", "/assets/api.js", "/assets/vendor/dagre.min.js"} {
		if !seen[want] {
			t.Errorf("%s is not referenced from the page", want)
		}
	}
}

// TestVendor_Sums checks the vendored files against VENDOR.txt, whose sums
// vendor.sh checks against the npm registry.
func TestVendor_Sums(t *testing.T) {
	f, err := os.Open("VENDOR.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 5 {
			t.Fatalf("VENDOR.txt: bad line %q", line)
		}
		b, err := os.ReadFile(fields[3])
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != fields[4] {
			t.Errorf("%s: sha256 %s, VENDOR.txt says %s (%s@%s %s)", fields[3], got, fields[4], fields[0], fields[1], fields[2])
		}
		n++
	}
	if n == 0 {
		t.Fatal("VENDOR.txt lists nothing")
	}
}
