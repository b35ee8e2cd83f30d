package app

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/stepwell/stepwell/metrics"
)

// Observability says how the server is watched: its metrics (and logs).
type Observability struct {
	// Metrics says where GET /metrics (Prometheus text format, package
	// metrics) is served: "" (auto) on the API's address when the API
	// needs no credentials, else nowhere (a scraper cannot sign its
	// requests: give an address); "api" on the API's address, without
	// authentication, even when the API needs credentials; a HOST:PORT on
	// a listener of its own (a private interface, say); "off" nowhere.
	// The metrics hold counts and state machine ARNs, never execution
	// data.
	Metrics string
}

// Metrics settings other than an address.
const (
	MetricsAuto = ""
	MetricsAPI  = "api"
	MetricsOff  = "off"
)

// validate checks the metrics setting.
func (o Observability) validate() []error {
	switch o.Metrics {
	case MetricsAuto, MetricsAPI, MetricsOff:
		return nil
	}
	if _, port, err := net.SplitHostPort(o.Metrics); err != nil {
		return []error{&FieldError{Field: "metrics", Value: o.Metrics, Err: fmt.Errorf("must be api, off or HOST:PORT")}}
	} else if p, ok := parsePort(port); !ok || p > 65535 {
		return []error{&FieldError{Field: "metrics", Value: o.Metrics, Err: fmt.Errorf("port must be a number from 0 to 65535")}}
	}
	return nil
}

// metricsOnAPI reports whether the API's address serves GET /metrics.
func (o Observability) metricsOnAPI(credentials bool) bool {
	return o.Metrics == MetricsAPI || (o.Metrics == MetricsAuto && !credentials)
}

// metricsAddr is the address of the metrics' own listener, if any.
func (o Observability) metricsAddr() string {
	switch o.Metrics {
	case MetricsAuto, MetricsAPI, MetricsOff:
		return ""
	}
	return o.Metrics
}

// serveMetrics serves GET /metrics on addr, a listener of its own, and
// prints where to logw. It returns what stops it.
func serveMetrics(addr string, reg *metrics.Registry, logw io.Writer) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", reg)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	fmt.Fprintf(logw, "stepwell: metrics on http://%s/metrics\n", ln.Addr())
	return func() { _ = hs.Close() }, nil
}
