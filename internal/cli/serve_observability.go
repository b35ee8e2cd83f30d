package cli

import (
	"fmt"
	"io"

	"github.com/stepwell/stepwell/internal/app"
)

// printObservability prints the metrics and log settings for
// --check-config (when any is set).
func printObservability(w io.Writer, o app.Observability) {
	if o == (app.Observability{}) {
		return
	}
	fmt.Fprintf(w, "metrics=%s log-format=%s log-level=%s execution-logs=%s\n", o.Metrics, o.LogFormat, o.LogLevel, o.ExecutionLogs)
}
