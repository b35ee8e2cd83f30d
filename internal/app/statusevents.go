package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/stepwell/stepwell/metrics"
	"github.com/stepwell/stepwell/statusevents"
	"github.com/stepwell/stepwell/store"
)

// eventsDrainTimeout bounds how long a closing server keeps sending the
// status events still queued.
const eventsDrainTimeout = 5 * time.Second

// StatusEvents says where execution status change events are sent
// (package statusevents: EventBridge's "Step Functions Execution Status
// Change" events, POSTed as JSON).
type StatusEvents struct {
	// URLs are the endpoints, comma-separated http:// or https:// URLs;
	// empty sends no events. A URL's user info and query values are
	// masked wherever it is printed.
	URLs string
	// Statuses, comma-separated, are the only statuses sent (RUNNING,
	// SUCCEEDED, FAILED, TIMED_OUT, ABORTED); empty sends them all.
	Statuses string
}

// validate checks the endpoints and statuses.
func (e StatusEvents) validate() []error {
	var errs []error
	if _, err := statusevents.ParseEndpoints(e.URLs); err != nil {
		errs = append(errs, &FieldError{Field: "status-events", Value: redactEndpoints(e.URLs), Err: err})
	}
	if _, err := statusevents.ParseStatuses(e.Statuses); err != nil {
		errs = append(errs, &FieldError{Field: "status-events-filter", Value: e.Statuses, Err: err})
	}
	return errs
}

// redactEndpoints masks the secrets of a list of endpoints, for printing.
func redactEndpoints(list string) string {
	eps, err := statusevents.ParseEndpoints(list)
	if err != nil {
		return "(invalid, not printed)"
	}
	out := ""
	for i, u := range eps {
		if i > 0 {
			out += ","
		}
		out += statusevents.Redact(u)
	}
	return out
}

// RedactedStatusEvents returns the endpoints of c.StatusEvents with their
// secrets masked, for --check-config.
func (c Config) RedactedStatusEvents() string { return redactEndpoints(c.StatusEvents.URLs) }

// statusEventSender returns the sender of the configured status events,
// nil when none is configured; it reads the rows of resumed executions
// from st, and its counts are added to reg.
func statusEventSender(c Config, st store.Store, reg *metrics.Registry, logger *slog.Logger) (*statusevents.Sender, error) {
	eps, err := statusevents.ParseEndpoints(c.StatusEvents.URLs)
	if err != nil || len(eps) == 0 {
		return nil, err
	}
	statuses, err := statusevents.ParseStatuses(c.StatusEvents.Statuses)
	if err != nil {
		return nil, err
	}
	s, err := statusevents.New(statusevents.Config{
		Endpoints: eps, Statuses: statuses, Logger: logger,
		Client: outboundClient(c, statusevents.DefaultTimeout),
		Lookup: func(ctx context.Context, arn string) (*store.Execution, error) { return st.GetExecution(ctx, arn) },
	})
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name, typ, help string
		get             func(statusevents.Stats) uint64
	}{
		{"stepwell_status_events_delivered_total", "counter", "Execution status change events an endpoint accepted (2xx).", func(s statusevents.Stats) uint64 { return s.Delivered }},
		{"stepwell_status_events_retries_total", "counter", "Attempts to send a status change event again after a failed one.", func(s statusevents.Stats) uint64 { return s.Retried }},
		{"stepwell_status_events_failed_total", "counter", "Status change events given up: every attempt failed, or a 4xx answer other than 408 and 429.", func(s statusevents.Stats) uint64 { return s.Failed }},
		{"stepwell_status_events_dropped_total", "counter", "Status change events dropped because the endpoint's queue was full.", func(s statusevents.Stats) uint64 { return s.Dropped }},
		{"stepwell_status_events_queued", "gauge", "Status change events waiting to be sent.", func(s statusevents.Stats) uint64 { return s.Queued }},
	} {
		get := f.get
		reg.AddFunc(f.name, f.typ, f.help, func() []metrics.Sample {
			var out []metrics.Sample
			for _, st := range s.Stats() {
				out = append(out, metrics.Sample{Labels: []string{"endpoint", st.Endpoint}, Value: float64(get(st))})
			}
			return out
		})
	}
	return s, nil
}
