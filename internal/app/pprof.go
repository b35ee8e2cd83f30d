package app

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// servePprof serves Go's runtime profiles (CPU, heap, allocations,
// goroutines, ...) under /debug/pprof/ on addr, a listener of its own so
// that they never share the API's address, and prints where to logw. It
// returns what stops it. Read them with go tool pprof, e.g.
//
//	go tool pprof -http : http://ADDR/debug/pprof/profile?seconds=10
func servePprof(addr string, logw io.Writer) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	fmt.Fprintf(logw, "stepwell: pprof on http://%s/debug/pprof/\n", ln.Addr())
	return func() { _ = hs.Close() }, nil
}
