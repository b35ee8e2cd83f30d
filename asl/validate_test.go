package asl

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden diagnostic files in testdata")

// TestDiagnosticsGolden validates every definition in testdata/diagnostics
// and compares the diagnostics and Load's error text with the .golden file
// beside it (rewritten with -update).
func TestDiagnosticsGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/diagnostics/*.json")
	if err != nil || len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			def, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			def = []byte(strings.TrimSuffix(string(def), "\n"))
			opts := Options{Express: strings.HasPrefix(name, "express")}
			var b strings.Builder
			diags := Validate(def, opts)
			for _, d := range diags {
				b.WriteString(string(d.Severity) + " " + d.Code + " " + d.Location + ": " + d.Message + "\n")
			}
			_, lerr := Load(def, opts)
			if lerr != nil {
				b.WriteString("Load: " + lerr.Error() + "\n")
			} else {
				b.WriteString("Load: ok\n")
			}
			hasErr := false
			for _, d := range diags {
				hasErr = hasErr || d.Severity == SeverityError
			}
			if hasErr != (lerr != nil) {
				t.Errorf("Load error %v but Validate errors %v", lerr, hasErr)
			}
			golden := strings.TrimSuffix(f, ".json") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if b.String() != string(want) {
				t.Errorf("diagnostics differ\n got:\n%s\nwant:\n%s", b.String(), want)
			}
		})
	}
}

func TestDefinitionErrorText(t *testing.T) {
	e := &DefinitionError{Diagnostics: []Diagnostic{
		{Severity: SeverityError, Code: CodeMissingTransition, Message: "Missing 'Next' target: pass3", Location: "/States/pass1/Next"},
		{Severity: SeverityError, Code: CodeMissingTransition, Message: `State "pass2" is not reachable.`, Location: "/States/pass2"},
	}}
	want := `Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: pass3 at /States/pass1/Next, MISSING_TRANSITION_TARGET: State "pass2" is not reachable. at /States/pass2'`
	if e.Error() != want {
		t.Errorf("got  %s\nwant %s", e.Error(), want)
	}
}
