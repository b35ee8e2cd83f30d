package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/value"
)

// ValidateCommand checks a definition (stepwell validate FILE).
type ValidateCommand struct {
	m *Main
}

// Run prints the definition's diagnostics, one per line as
// "LOCATION: SEVERITY CODE: message", or as JSON shaped like the
// ValidateStateMachineDefinition response with --json. The exit code is 0
// only when no diagnostic is an ERROR.
func (c *ValidateCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("validate", "validate FILE [flags]", c.m.Stdout)
	asJSON := fs.Bool("json", false, "print {\"result\", \"diagnostics\"} as ValidateStateMachineDefinition returns them")
	express := fs.Bool("express", false, "apply the EXPRESS type's restrictions")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := exactArgs("validate", pos, "FILE"); err != nil {
		return err
	}
	def, err := c.m.readFile(pos[0])
	if err != nil {
		return err
	}
	diags := asl.Validate(def, asl.Options{Express: *express})
	failed := false
	for _, d := range diags {
		if d.Severity == asl.SeverityError {
			failed = true
		}
	}
	if *asJSON {
		if err := writeDiagnosticsJSON(c.m.Stdout, diags, failed); err != nil {
			return err
		}
	} else {
		writeDiagnostics(c.m.Stdout, "", readable(def, diags))
	}
	if failed {
		return errReported
	}
	return nil
}

// writeDiagnostics prints "LOCATION: SEVERITY CODE: message" lines,
// prefixed with "FILE: " when file is set.
func writeDiagnostics(w io.Writer, file string, diags []asl.Diagnostic) {
	for _, d := range diags {
		loc := d.Location
		if loc == "" {
			loc = "/"
		}
		if file != "" {
			fmt.Fprintf(w, "%s: ", file)
		}
		fmt.Fprintf(w, "%s: %s %s: %s\n", loc, d.Severity, d.Code, d.Message)
	}
}

// jsonDiagnostic is ValidateStateMachineDefinitionDiagnostic.
type jsonDiagnostic struct {
	Severity string `json:"severity"`
	Code     string `json:"code"`
	Message  string `json:"message"`
	Location string `json:"location,omitempty"`
}

func writeDiagnosticsJSON(w io.Writer, diags []asl.Diagnostic, failed bool) error {
	out := struct {
		Result      string           `json:"result"`
		Diagnostics []jsonDiagnostic `json:"diagnostics"`
		Truncated   bool             `json:"truncated"`
	}{Result: "OK", Diagnostics: []jsonDiagnostic{}}
	if failed {
		out.Result = "FAIL"
	}
	for _, d := range diags {
		out.Diagnostics = append(out.Diagnostics, jsonDiagnostic{string(d.Severity), d.Code, d.Message, d.Location})
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return fmt.Errorf("encode diagnostics: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// readable replaces AWS's INVALID_JSON_DESCRIPTION diagnostic, which quotes
// the whole definition as Jackson does, by one that gives the line and
// column of the syntax error.
func readable(def []byte, diags []asl.Diagnostic) []asl.Diagnostic {
	if len(bytes.TrimSpace(def)) == 0 {
		return diags
	}
	_, err := value.Parse(def)
	var se *value.SyntaxError
	if !errors.As(err, &se) {
		return diags
	}
	out := []asl.Diagnostic{{Severity: asl.SeverityError, Code: asl.CodeInvalidJSON, Message: se.Msg,
		Location: fmt.Sprintf("line %d, column %d", se.Line, se.Column)}}
	for _, d := range diags {
		if d.Code != asl.CodeInvalidJSON {
			out = append(out, d)
		}
	}
	return out
}
