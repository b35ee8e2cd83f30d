package asl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stepwell/stepwell/value"
)

// TestCorpusLoads loads the definition of every recorded conformance case:
// AWS created each of those state machines, so none may be rejected.
func TestCorpusLoads(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(casesDir, "*.json"))
	if len(files) == 0 {
		t.Skip("conformance cases not available")
	}
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := value.Parse(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		co, ok := c.(*value.Object)
		if !ok {
			continue
		}
		def, ok := co.Get("definition")
		if !ok {
			continue
		}
		express := false
		if env, ok := co.Get("environment"); ok {
			if ty, _ := env.(*value.Object).Get("state_machine_type"); ty == "EXPRESS" {
				express = true
			}
		}
		n++
		// The harness fills in activity ARNs created at run time.
		text := strings.ReplaceAll(string(value.Marshal(def)), "create_activity()['activityArn']",
			"arn:aws:states:us-east-1:111111111111:activity:a")
		if _, err := Load([]byte(text), Options{Express: express}); err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
		}
	}
	t.Logf("%d definitions loaded", n)
}
