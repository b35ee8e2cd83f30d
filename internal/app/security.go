package app

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stepwell/stepwell/api/sigv4"
)

// Security is the part of Config that decides who may call the server and
// how connections are protected: authentication (AWS Signature Version 4
// against a credentials file), TLS for the server, and the CA bundle
// outgoing requests trust.
type Security struct {
	// Credentials is a JSON file of the access keys whose SigV4
	// signatures the server accepts (api/sigv4.ParseKeys):
	// {"accessKeys": [{"accessKeyId", "secretAccessKey", "name"}]}. When
	// set, every API request must be signed with one of them.
	Credentials string
	// Auth is the authentication mode: "" (the default) verifies SigV4
	// when Credentials is set and otherwise serves without authentication
	// on a loopback address only; "sigv4" requires Credentials; "none"
	// serves without authentication on any address (behind a proxy that
	// authenticates, say).
	Auth string
	// TLSCert and TLSKey are PEM files: with both, the server speaks
	// HTTPS only.
	TLSCert, TLSKey string
	// CABundle is a PEM file of certificate authorities that outgoing
	// requests (HTTP Tasks, the Lambda endpoint, AWS service endpoints)
	// trust besides the system's (the AWS_CA_BUNDLE convention).
	CABundle string
}

// Authentication modes (Security.Auth).
const (
	AuthAuto  = ""
	AuthSigV4 = "sigv4"
	AuthNone  = "none"
)

// validate checks the security settings for a server listening on addr.
func (s Security) validate(addr string) []error {
	var errs []error
	bad := func(field, value, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Value: value, Err: fmt.Errorf(format, args...)})
	}
	switch s.Auth {
	case AuthAuto, AuthSigV4, AuthNone:
	default:
		bad("auth", s.Auth, "must be sigv4 or none")
	}
	switch {
	case s.Auth == AuthNone && s.Credentials != "":
		bad("auth", s.Auth, "--auth none serves without authentication: leave --credentials out, or drop --auth none")
	case s.Auth == AuthSigV4 && s.Credentials == "":
		bad("credentials", "", "--auth sigv4 needs --credentials FILE")
	case s.Auth == AuthAuto && s.Credentials == "" && validAddr(addr) && !loopbackAddr(addr):
		bad("addr", addr, "is not a loopback address, and the server has no credentials to verify requests with: "+
			"give --credentials FILE (AWS Signature Version 4), or --auth none to serve every client that reaches it")
	}
	if s.Credentials != "" {
		if _, err := sigv4.LoadKeys(s.Credentials); err != nil {
			bad("credentials", s.Credentials, "%v", err)
		}
	}
	if (s.TLSCert == "") != (s.TLSKey == "") {
		bad("tls-cert", s.TLSCert, "--tls-cert and --tls-key go together")
	}
	if s.CABundle != "" {
		if _, err := caBundle(s.CABundle); err != nil {
			bad("ca-bundle", s.CABundle, "%v", err)
		}
	}
	return errs
}

// keys returns the access keys to verify requests with; nil when the
// server serves without authentication.
func (s Security) keys() (*sigv4.Keys, error) {
	if s.Credentials == "" {
		return nil, nil
	}
	return sigv4.LoadKeys(s.Credentials)
}

// warnings are the start-up warnings about the security settings: a
// credentials file others may read, a server without authentication on a
// non-loopback address.
func (s Security) warnings(addr string) []string {
	var out []string
	if s.Credentials != "" {
		if fi, err := os.Stat(s.Credentials); err == nil && fi.Mode().Perm()&0o077 != 0 {
			out = append(out, fmt.Sprintf("the credentials file %s may be read by other users (mode %04o): chmod 600 it", s.Credentials, fi.Mode().Perm()))
		}
	}
	if s.Auth == AuthNone && !loopbackAddr(addr) {
		out = append(out, "--auth none: every client that reaches "+addr+" may use the API (put an authenticating proxy in front)")
	}
	return out
}

// authMode describes the authentication for the start-up line.
func (s Security) authMode(keys *sigv4.Keys) string {
	if keys == nil {
		return "none"
	}
	if keys.Len() == 1 {
		return "AWS SigV4, 1 access key"
	}
	return fmt.Sprintf("AWS SigV4, %d access keys", keys.Len())
}

// tlsConfig loads the server's certificate; nil without one.
func (s Security) tlsConfig() (*tls.Config, error) {
	if s.TLSCert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(s.TLSCert, s.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// loopbackAddr tells whether HOST:PORT names a loopback host: localhost
// (or a name under .localhost, or sync-localhost), or a loopback IP. An
// empty host (every interface) is not.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	return loopbackHost(host)
}

// validAddr tells whether addr is HOST:PORT (Validate reports it otherwise).
func validAddr(addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	p, ok := parsePort(port)
	return err == nil && ok && p <= 65535
}

func loopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	// sync-localhost: the name the AWS SDKs and CLI send StartSyncExecution
	// to when the endpoint is localhost (the operation's host prefix).
	if host == "localhost" || host == "sync-localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// checksHost tells whether the server refuses foreign Host headers
// (loopbackHostOnly): on a loopback address without credentials, where any
// request is served. With credentials every request is signed, and a
// signed request's Host is the one its client named (a proxy in front
// passes the public name on), so the signature protects it instead.
func (s Security) checksHost(addr string) bool {
	return s.Credentials == "" && loopbackAddr(addr)
}

// loopbackHostOnly protects a server listening on a loopback address from
// DNS rebinding: a web page whose name its attacker points at 127.0.0.1
// reaches the server with that name in the Host header, which is refused
// (421 Misdirected Request). Only loopback names and addresses are served.
//
// The last Host accepted is remembered: clients send the same one at each
// request, and checking it again (parsing an address) was ~0.8 % of the
// server's CPU per StartExecution.
func loopbackHostOnly(next http.Handler) http.Handler {
	var accepted atomic.Pointer[string]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if last := accepted.Load(); last != nil && *last == r.Host {
			next.ServeHTTP(w, r)
			return
		}
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if !loopbackHost(host) {
			http.Error(w, "stepwell: this server listens on a loopback address and serves only requests addressed to it "+
				"(Host: localhost or a loopback IP), not to "+fmt.Sprintf("%q", r.Host), http.StatusMisdirectedRequest)
			return
		}
		ok := r.Host // a copy: the request is not kept
		accepted.Store(&ok)
		next.ServeHTTP(w, r)
	})
}

// unusedConns tracks the server's connections on which no request has
// begun (http.StateNew): clients open such ones ahead of need (browsers
// preconnect; Go's transport keeps a dial that lost a race), and
// http.Server.Shutdown waits for them as if a request were in flight
// until they are 5 seconds old (Go issue 22682), so a stop took up to 5
// s. At shutdown they are closed, which loses nothing: no request was
// read from them.
type unusedConns struct {
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	closing bool
}

// trackUnused tracks hs's connections without a request (hs.ConnState).
func trackUnused(hs *http.Server) *unusedConns {
	u := &unusedConns{conns: make(map[net.Conn]struct{})}
	hs.ConnState = u.track
	return u
}

func (u *unusedConns) track(c net.Conn, st http.ConnState) {
	if st == http.StateIdle {
		return // it was active before: no longer tracked (at every request)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	switch {
	case st == http.StateNew && u.closing:
		_ = c.Close()
	case st == http.StateNew:
		u.conns[c] = struct{}{}
	default:
		delete(u.conns, c)
	}
}

// close closes the connections without a request, and any accepted
// after (http.Server.RegisterOnShutdown).
func (u *unusedConns) close() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.closing = true
	for c := range u.conns {
		_ = c.Close()
	}
	clear(u.conns)
}

// Server timeouts and limits: a client must send its headers within
// readHeaderTimeout (the API bounds the body's time itself), an idle
// keep-alive connection is closed after idleTimeout, and headers are at
// most maxHeaderBytes.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
)

// derivedKey derives a key for one purpose from the server's secret key
// (the store's task token key), so that one secret serves several uses
// without one's tokens being valid as another's.
func derivedKey(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("stepwell " + purpose))
	return m.Sum(nil)
}

// caBundles caches the CA bundles read, by path: every client built for a
// configuration shares one pool, and Validate has read it once already.
var caBundles sync.Map // path → caResult

type caResult struct {
	pool *x509.CertPool
	err  error
}

// caBundle returns the system's roots plus the certificates of the PEM
// file at path.
func caBundle(path string) (*x509.CertPool, error) {
	if r, ok := caBundles.Load(path); ok {
		return r.(caResult).pool, r.(caResult).err
	}
	pool, err := readCABundle(path)
	caBundles.Store(path, caResult{pool, err})
	return pool, err
}

func readCABundle(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("no PEM certificate in the file")
	}
	return pool, nil
}

// outboundClient returns the client of outgoing requests (HTTP Tasks,
// Lambda endpoints, AWS service endpoints): a pooled transport that trusts c.CABundle besides
// the system's roots, with timeout (0: none, the task's context bounds
// the request). A CA bundle that cannot be read (Validate reports it)
// fails every request rather than trusting the system's roots alone.
func outboundClient(c Config, timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 64
	if c.CABundle != "" {
		pool, err := caBundle(c.CABundle)
		if err != nil {
			return &http.Client{Timeout: timeout, Transport: failingTransport{fmt.Errorf("ca bundle %s: %w", c.CABundle, err)}}
		}
		t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Timeout: timeout, Transport: t}
}

type failingTransport struct{ err error }

func (f failingTransport) RoundTrip(*http.Request) (*http.Response, error) { return nil, f.err }
