package uuid

import (
	"regexp"
	"strings"
	"testing"
	"time"
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

// TestName: a name-based UUID is version 5 of RFC 9562's variant, the
// same for the same name and another for another name.
func TestName(t *testing.T) {
	a, b := Name("arn:aws:states:us-east-1:1:mapRun:m/l:1#0"), Name("arn:aws:states:us-east-1:1:mapRun:m/l:1#1")
	if a != Name("arn:aws:states:us-east-1:1:mapRun:m/l:1#0") || a == b {
		t.Fatalf("Name: %s, %s", a, b)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(a) {
		t.Errorf("Name = %s, not a version 5 UUID", a)
	}
	// SHA-1 of the empty name, its first 16 bytes with version and variant set.
	if got, want := Name(""), "da39a3ee-5e6b-5b0d-b255-bfef95601890"; got != want {
		t.Errorf("Name(\"\") = %s, want %s", got, want)
	}
}

// TestOrdered: a version 7, variant 1 UUID in its text form, whose first
// 48 bits are the time's Unix milliseconds, different each time, and
// sorting (as text) in the order of the milliseconds it was made in.
func TestOrdered(t *testing.T) {
	form := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	at := time.UnixMilli(0x0123456789ab).Add(999 * time.Microsecond)
	if got := Ordered(at); !strings.HasPrefix(got, "01234567-89ab-7") {
		t.Errorf("Ordered(%v) = %s, want the milliseconds 0x0123456789ab first", at, got)
	}
	seen := map[string]bool{}
	prev := ""
	for i := range 1000 {
		u := Ordered(at.Add(time.Duration(i/3) * time.Millisecond))
		if !form.MatchString(u) {
			t.Fatalf("Ordered() = %q", u)
		}
		if seen[u] {
			t.Fatalf("Ordered() returned %q twice", u)
		}
		seen[u] = true
		if i%3 == 0 && u <= prev {
			t.Fatalf("%s (millisecond %d) sorts before %s, made a millisecond earlier", u, i/3, prev)
		}
		prev = max(prev, u)
	}
}
