package asl

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// TestJSONataNodesLimit: a definition whose JSONata expressions have more
// than MaxJSONataNodes syntax nodes in all is invalid, and its compilation
// stops there (a 941 KB definition of sums held 378 MB once compiled).
func TestJSONataNodesLimit(t *testing.T) {
	def := func(n int) string {
		var b strings.Builder
		b.WriteString(`{"QueryLanguage":"JSONata","StartAt":"S0","States":{`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			next := fmt.Sprintf(`"Next":"S%d"`, i+1)
			if i == n-1 {
				next = `"End":true`
			}
			fmt.Fprintf(&b, `"S%d":{"Type":"Pass","Output":"{%% %s1 %%}",%s}`, i, strings.Repeat("1+", 1900), next)
		}
		b.WriteString(`}}`)
		return b.String()
	}
	if _, err := Load([]byte(def(10)), Options{}); err != nil {
		t.Fatalf("10 states of 3,799 nodes: %v", err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Load([]byte(def(250)), Options{})
	runtime.ReadMemStats(&after)
	var de *DefinitionError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "syntax nodes in all") {
		t.Fatalf("250 states of 3,799 nodes: %v", err)
	}
	if alloc := (after.TotalAlloc - before.TotalAlloc) >> 20; alloc > 100 {
		t.Errorf("compiling it allocated %d MB, want at most 100", alloc)
	}
}
