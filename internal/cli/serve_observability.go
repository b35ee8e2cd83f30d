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
	fmt.Fprintf(w, "metrics=%s\n", o.Metrics)
}
