package engine

import (
	"strings"
	"testing"
	"time"
)

// Golden histories show task tokens: tests sign them with a fixed key.
func init() { tokenKey = []byte("stepwell-test-token-key-32-bytes") }

func TestTaskTokens(t *testing.T) {
	ex := &execution{x: &Execution{ARN: "arn:aws:states:us-east-1:111111111111:execution:m:e", StartTime: time.Unix(1700000000, 5)}}
	th := &thread{ex: ex, log: counted}
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		tok := th.newToken()
		if len(tok) != tokenLength || len(tok) < 64 || !strings.HasPrefix(tok, "AQB") {
			t.Fatalf("token %q: length %d", tok, len(tok))
		}
		if seen[tok] {
			t.Fatalf("token %q issued twice", tok)
		}
		seen[tok] = true
		if !ValidTaskToken(tok) {
			t.Fatalf("ValidTaskToken(%q) = false", tok)
		}
		// Any changed character breaks the signature.
		b := []byte(tok)
		j := 3 + i%(len(b)-3)
		if b[j] == 'A' {
			b[j] = 'B'
		} else {
			b[j] = 'A'
		}
		if ValidTaskToken(string(b)) {
			t.Fatalf("ValidTaskToken accepted a changed token %q", b)
		}
	}
	for _, bad := range []string{"", "AQB", "token", strings.Repeat("A", tokenLength), "AQB" + strings.Repeat("!", tokenLength-3)} {
		if ValidTaskToken(bad) {
			t.Errorf("ValidTaskToken(%q) = true", bad)
		}
	}
}

func FuzzValidTaskToken(f *testing.F) {
	f.Add("AQB")
	f.Add("AQB" + strings.Repeat("A", tokenLength-3))
	f.Fuzz(func(t *testing.T, s string) {
		_ = ValidTaskToken(s)
	})
}
