package uuid

import (
	"regexp"
	"testing"
)

// TestNew: a version 4, variant 1 UUID in its text form, different each
// time.
func TestNew(t *testing.T) {
	form := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		u := New()
		if !form.MatchString(u) {
			t.Fatalf("New() = %q", u)
		}
		if seen[u] {
			t.Fatalf("New() returned %q twice", u)
		}
		seen[u] = true
	}
}
