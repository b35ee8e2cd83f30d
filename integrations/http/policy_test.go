package httptask

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stepwell/stepwell/fault"
)

func TestParseRules(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		bad  bool
		text string
	}{
		{in: "", n: 0},
		{in: "10.0.0.0/8, 169.254.169.254 ,fd00::/8", n: 3},
		{in: "private", n: len(privateNetworks)},
		{in: "api.example.com,*.corp.example.com", n: 2},
		{in: "10.0.0.0/33", bad: true},
		{in: "not a host", bad: true},
		{in: "*", bad: true},
	} {
		rules, err := ParseRules(c.in)
		if (err != nil) != c.bad || (!c.bad && len(rules) != c.n) {
			t.Errorf("ParseRules(%q) = %d rules, %v", c.in, len(rules), err)
		}
	}
	rules, _ := ParseRules("*.corp.example.com,10.1.0.0/16")
	if !rules[0].matchName("a.corp.example.com") || rules[0].matchName("corp.example.com") || rules[0].matchName("xcorp.example.com") {
		t.Error("*.corp.example.com matches wrongly")
	}
}

// restricted is an Invoker whose client follows the policy of allow and
// deny rules.
func restricted(t *testing.T, allow, deny string, conns Connections) *Invoker {
	t.Helper()
	a, err := ParseRules(allow)
	if err != nil {
		t.Fatal(err)
	}
	d, err := ParseRules(deny)
	if err != nil {
		t.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	(&Policy{Allow: a, Deny: d}).Restrict(tr)
	inv := New(conns)
	inv.Client = &http.Client{Transport: tr}
	return inv
}

// serverOn is a test server listening on ip (a loopback address) that
// counts its requests and answers with handler.
func serverOn(t *testing.T, ip string, handler http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Skipf("cannot listen on %s: %v", ip, err)
	}
	var n atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		handler(w, r)
	}))
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &n
}

func ok(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }

// wantRefused checks that the task failed as refused, without contacting
// the server.
func wantRefused(t *testing.T, what string, err error, hits *atomic.Int32, cause ...string) {
	t.Helper()
	fe, isFault := fault.As(err)
	if !isFault || fe.Name != "States.Http.Socket" {
		t.Errorf("%s: %v, want States.Http.Socket", what, err)
		return
	}
	for _, c := range cause {
		if !strings.Contains(fe.Cause, c) {
			t.Errorf("%s: cause %q lacks %q", what, fe.Cause, c)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%s: the server got %d requests", what, n)
	}
}

// TestPolicy: the allow and deny rules are checked on the name the task
// gives and on the address it resolves to, with real local servers.
func TestPolicy(t *testing.T) {
	srv, hits := serverOn(t, "127.0.0.1", ok)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	byName := "http://localhost:" + port + "/x"
	get := func(inv *Invoker, url string) error {
		_, err := inv.Invoke(context.Background(), task(`{"ApiEndpoint":"`+url+`","Method":"GET"}`))
		return err
	}
	// Denied networks: by address, and by the address a name resolves to.
	for _, deny := range []string{"127.0.0.0/8", "private", "127.0.0.1"} {
		inv := restricted(t, "", deny, nil)
		wantRefused(t, "deny "+deny, get(inv, srv.URL), hits, "127.0.0.1", "deny rule "+deny, "--http-task-deny")
		wantRefused(t, "deny "+deny+" by name", get(inv, byName), hits, "localhost (127.0.0.1)")
	}
	// A denied name.
	wantRefused(t, "deny localhost", get(restricted(t, "", "localhost", nil), byName), hits, "deny rule localhost")
	// Allow rules that do not hold the target.
	wantRefused(t, "allow 10/8", get(restricted(t, "10.0.0.0/8,api.example.com", "", nil), srv.URL), hits, "matches no allow rule", "--http-task-allow")
	// Allowed: by network, by name; a deny rule elsewhere changes nothing.
	for _, c := range []struct{ allow, deny, url string }{
		{"127.0.0.0/8", "", srv.URL}, {"localhost", "", byName}, {"", "10.0.0.0/8,169.254.169.254", srv.URL},
	} {
		if err := get(restricted(t, c.allow, c.deny, nil), c.url); err != nil {
			t.Errorf("allow %q deny %q: %s: %v", c.allow, c.deny, c.url, err)
		}
	}
	// An allowed name still may not resolve to a denied address (DNS
	// rebinding).
	hits.Store(0)
	wantRefused(t, "allowed name, denied address", get(restricted(t, "localhost", "127.0.0.0/8", nil), byName), hits, "localhost (127.0.0.1)")
}

// TestPolicy_Redirects: a redirect to a denied address is refused like a
// first request.
func TestPolicy_Redirects(t *testing.T) {
	inner, innerHits := serverOn(t, "127.0.0.2", ok)
	outer, _ := serverOn(t, "127.0.0.1", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inner.URL+"/secret", http.StatusFound)
	})
	_, err := restricted(t, "", "127.0.0.2", nil).Invoke(context.Background(), task(`{"ApiEndpoint":"`+outer.URL+`","Method":"GET"}`))
	wantRefused(t, "redirect", err, innerHits, "127.0.0.2", "deny rule 127.0.0.2")
}

// TestConnection_CredentialsStayWithTheirHosts: a connection's
// credentials are not sent where a redirect points to another host, nor to
// an ApiEndpoint outside the connection's Endpoints.
func TestConnection_CredentialsStayWithTheirHosts(t *testing.T) {
	var leaked atomic.Int32
	other, _ := serverOn(t, "127.0.0.2", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != "" {
			leaked.Add(1)
		}
	})
	api, _ := serverOn(t, "127.0.0.1", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/move" {
			http.Redirect(w, r, other.URL+"/collect", http.StatusTemporaryRedirect)
			return
		}
		if r.URL.Path == "/v1/here" {
			http.Redirect(w, r, "/v1/ok", http.StatusFound)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	conns := Connections{
		"arn:key":    {Headers: []Param{{"X-Api-Key", "s3cret"}}},
		"arn:pinned": {Headers: []Param{{"X-Api-Key", "s3cret"}}, Endpoints: []string{api.URL + "/v1"}},
	}
	inv := New(conns)
	call := func(conn, url string) error {
		_, err := inv.Invoke(context.Background(), task(`{"ApiEndpoint":"`+url+`","Method":"GET","Authentication":{"ConnectionArn":"`+conn+`"}}`))
		return err
	}
	// A redirect to the same host is followed; to another, it is the answer.
	if err := call("arn:key", api.URL+"/v1/here"); err != nil {
		t.Errorf("same-host redirect: %v", err)
	}
	if fe, isFault := fault.As(call("arn:key", api.URL+"/v1/move")); !isFault || fe.Name != "States.Http.StatusCode.307" {
		t.Errorf("cross-host redirect with credentials: %v, want States.Http.StatusCode.307", fe)
	}
	// Endpoints.
	if err := call("arn:pinned", api.URL+"/v1/items"); err != nil {
		t.Errorf("pinned connection, its endpoint: %v", err)
	}
	for _, url := range []string{other.URL + "/v1/items", api.URL + "/v10", api.URL + "/admin"} {
		fe, isFault := fault.As(call("arn:pinned", url))
		if !isFault || fe.Name != fault.Runtime || !strings.Contains(fe.Cause, "may not be sent") {
			t.Errorf("pinned connection to %s: %v, want States.Runtime", url, fe)
		}
	}
	if n := leaked.Load(); n != 0 {
		t.Errorf("the connection's key reached another host %d times", n)
	}
	if _, err := ParseConnections([]byte(`{"arn:c":{"Endpoints":["ftp://x"]}}`)); err == nil {
		t.Error("an ftp endpoint was accepted")
	}
}

// FuzzParseRules: any list parses or is refused without panicking, and
// what parses is checked without panicking, on names and addresses.
func FuzzParseRules(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8,private", "*.example.com, ::1", "[fe80::1]", "a..b", "1.2.3.4/40"} {
		f.Add(s, "host.example.com", "192.168.1.1")
	}
	f.Fuzz(func(t *testing.T, list, host, addr string) {
		rules, err := ParseRules(list)
		if err != nil {
			return
		}
		p := &Policy{Allow: rules, Deny: rules}
		allowed, _ := p.checkName(host)
		if a, err := netip.ParseAddr(addr); err == nil {
			_ = p.checkAddr(host, a, allowed)
		}
		for _, r := range rules {
			if _, err := ParseRules(r.Text); err != nil {
				t.Errorf("rule %q of %q does not parse alone: %v", r.Text, list, err)
			}
		}
	})
}
