package cli

import (
	"fmt"
	"io"
	"strconv"

	"github.com/stepwell/stepwell/internal/app"
)

// printConfig prints the whole effective configuration for
// --check-config, one setting a line (name=value, in the order of the
// flags): every serve setting, then the AWS endpoints and region. Secrets
// are masked: passwords in URLs and DSNs, the user info and query values
// of status event endpoints; files are named, never read out.
func printConfig(w io.Writer, cfg *app.Config) {
	for _, s := range serveSettings {
		fmt.Fprintf(w, "%s=%s\n", s.flag, s.value(cfg))
	}
	fmt.Fprintf(w, "aws-endpoints=%s\naws-region=%s\n", app.FormatAWSEndpoints(cfg.AWS.Endpoints), cfg.AWS.Region)
}

// value is the setting's value as --check-config prints it.
func (s serveSetting) value(c *app.Config) string {
	switch {
	case s.show != nil:
		return s.show(c)
	case s.str != nil:
		return *s.str(c)
	case s.float != nil:
		return strconv.FormatFloat(*s.float(c), 'g', -1, 64)
	case s.num != nil:
		return strconv.Itoa(*s.num(c))
	case s.on != nil:
		return strconv.FormatBool(*s.on(c))
	case s.size != nil:
		return orDefault(sizeValue{s.size(c)}.String(), "default")
	}
	return durationValue{s.dur(c)}.String()
}

// orDefault is v, or def when v is empty (the setting's default).
func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
