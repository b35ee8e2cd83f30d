package engine_test

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/history"
)

// TestFanOutHeldResults runs fan-outs whose results pass the payload limit
// together: each fails with States.DataLimitExceeded once its ended
// children's results do, not after every child ran, and an inline Map runs
// at most 40 iterations at once (AWS's limit), so that neither holds the
// results (nor the history texts) of thousands of children at once.
func TestFanOutHeldResults(t *testing.T) {
	big := strings.Repeat("x", 100_000)
	tests := []struct {
		name, def, input string
		children         int // Map iterations or Parallel branches
	}{
		{"inline Map copying its input", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","ItemSelector":{"s.$":"$.s"},` +
			`"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`,
			`{"items":[` + strings.Repeat("0,", 5999) + `0],"s":"` + big + `"}`, 6000},
		{"inline Map building new values", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","ItemSelector":{"s.$":"$.s"},` +
			`"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"r.$":"States.Format('{}-{}', $.s, $.s)"},"End":true}}},"End":true}}}`,
			`{"items":[` + strings.Repeat("0,", 5999) + `0],"s":"` + big + `"}`, 6000},
		{"Parallel building new values", parallelFormatDef(500), `{"s":"` + big + `"}`, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &keepAll{}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			res := engine.New(engine.Config{}).Execute(context.Background(), execution(load(t, tt.def), tt.input), rec)
			runtime.ReadMemStats(&after)
			if res.Status != engine.StatusFailed || str(res.Error) != "States.DataLimitExceeded" {
				t.Fatalf("result %s %v %v", res.Status, str(res.Error), str(res.Cause))
			}
			ended := 0
			for _, ev := range rec.events {
				switch ev.Type {
				case history.MapIterationSucceeded, history.PassStateExited:
					ended++
				}
			}
			if ended == 0 || ended > tt.children/4 {
				t.Errorf("%d children ended of %d, want some but far fewer", ended, tt.children)
			}
			alloc := (after.TotalAlloc - before.TotalAlloc) >> 20
			t.Logf("%d children ended of %d; allocated %d MB", ended, tt.children, alloc)
			if alloc > 256 {
				t.Errorf("allocated %d MB, want at most 256", alloc)
			}
		})
	}
}

// parallelFormatDef is a Parallel of n branches, each building a new value
// twice the size of the input's s.
func parallelFormatDef(n int) string {
	brs := make([]string, n)
	for i := range brs {
		p := "F" + strings.Repeat("f", i%7) + string(rune('a'+i%26)) + strings.Repeat("x", i/26)
		brs[i] = `{"StartAt":"` + p + `","States":{"` + p + `":{"Type":"Pass","Parameters":{"r.$":"States.Format('{}-{}', $.s, $.s)"},"End":true}}}`
	}
	return `{"StartAt":"X","States":{"X":{"Type":"Parallel","Branches":[` + strings.Join(brs, ",") + `],"End":true}}}`
}
