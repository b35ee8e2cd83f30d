package engine_test

import (
	"context"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stepwell/stepwell/engine"
)

// nestedFormat is States.Format nested depth deep, each call joining four
// copies of the level below; the leaves are $.s.
func nestedFormat(depth int) string {
	if depth == 0 {
		return "$.s"
	}
	inner := nestedFormat(depth - 1)
	return "States.Format('{}{}{}{}', " + strings.Repeat(inner+", ", 3) + inner + ")"
}

// wideTemplate is a payload template of n×n fields, each naming the whole
// input: a small definition whose output stands for n² copies of it.
func wideTemplate(n int) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"f` + string(rune('a'+i%26)) + strings.Repeat("x", i/26) + `":{`)
		for j := range n {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"g` + string(rune('a'+j%26)) + strings.Repeat("x", j/26) + `.$":"$"`)
		}
		b.WriteByte('}')
	}
	b.WriteByte('}')
	return b.String()
}

// manyFormats is n template fields, each a States.Format copying $.s: a
// small definition that builds n new strings the size of the input.
func manyFormats(n int) string {
	fs := make([]string, n)
	for i := range fs {
		fs[i] = `"f` + strconv.Itoa(i) + `.$":"States.Format('{}', $.s)"`
	}
	return strings.Join(fs, ",")
}

// TestHostileAmplification runs definitions that multiply a small input
// into a huge value (nested States.Format, a payload template naming the
// input thousands of times, or building a copy of it in each of 1,000
// fields): each fails with States.DataLimitExceeded, and
// the run allocates a bounded amount, not the value's size (327 MB for the
// nested Format of the issue, 800 MB for the template, 200 MB for the
// fields). The Map whose ItemSelector copies a 200 KB input into 300 items
// fails on its result, but each iteration's Entered event carries a 200 KB
// text (shared with its Exited one): with a Recorder that keeps them all,
// the run allocates 120 MB, one rendering per iteration (twice that before
// the texts were shared), and holds 60 MB until the history is written. A
// per-execution budget on history bytes is still to do, so that case's
// allocation is only logged.
func TestHostileAmplification(t *testing.T) {
	five := `{"s":"` + strings.Repeat("x", 5000) + `"}`
	big := `{"s":"` + strings.Repeat("x", 200_000) + `"}`
	tests := []struct {
		name, def, input, cause string
	}{
		{"nested Format", `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"r.$":"` + nestedFormat(8) + `"},"End":true}}}`,
			five, "The value built by States.Format has a size exceeding the maximum number of bytes service limit."},
		{"wide template", `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":` + wideTemplate(64) + `,"End":true}}}`,
			big, "The state/task 'P' returned a result with a size exceeding the maximum number of bytes service limit."},
		{"many built fields", `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{` + manyFormats(1000) + `},"End":true}}}`,
			big, "The state/task 'P' returned a result with a size exceeding the maximum number of bytes service limit."},
		{"wide ItemSelector", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","ItemSelector":` + wideTemplate(64) + `,` +
			`"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`,
			`{"items":[1,2,3],"s":"` + strings.Repeat("x", 200_000) + `"}`,
			"The state/task 'M' returned a result with a size exceeding the maximum number of bytes service limit."},
		{"Map results", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","ItemSelector":{"s.$":"$.s"},` +
			`"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`,
			`{"items":[` + strings.Repeat("0,", 299) + `0],"s":"` + strings.Repeat("x", 200_000) + `"}`,
			"The state/task 'M' returned a result with a size exceeding the maximum number of bytes service limit."},
	}
	for _, tt := range tests {
		for _, rec := range []struct {
			name string
			r    engine.Recorder
		}{{"no history", nil}, {"history", &keepAll{}}} {
			t.Run(tt.name+", "+rec.name, func(t *testing.T) {
				sm := load(t, tt.def)
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				res := engine.New(engine.Config{}).Execute(context.Background(), execution(sm, tt.input), rec.r)
				runtime.ReadMemStats(&after)
				if res.Status != engine.StatusFailed || str(res.Error) != "States.DataLimitExceeded" ||
					!strings.HasSuffix(str(res.Cause), tt.cause) {
					t.Fatalf("result %s %v %v", res.Status, str(res.Error), str(res.Cause))
				}
				alloc := (after.TotalAlloc - before.TotalAlloc) >> 20
				t.Logf("allocated %d MB in all", alloc)
				if tt.name != "Map results" && alloc > 64 {
					t.Errorf("allocated %d MB, want at most 64", alloc)
				}
			})
		}
	}
}

// parallelDef is a Parallel of n branches, each one Pass state.
func parallelDef(n int) string {
	brs := make([]string, n)
	for i := range brs {
		p := "P" + strconv.Itoa(i)
		brs[i] = `{"StartAt":"` + p + `","States":{"` + p + `":{"Type":"Pass","End":true}}}`
	}
	return `{"StartAt":"X","States":{"X":{"Type":"Parallel","Branches":[` + strings.Join(brs, ",") + `],"End":true}}}`
}

// TestParallelInputText runs a Parallel of 200 branches on a 100 KB input,
// keeping its history: each branch's Entered and Exited events carry the
// input's text, rendered once and shared (84 MB of copies before), and the
// result, 200 copies of the input, fails with States.DataLimitExceeded as
// soon as the branches that ended pass the limit (TestFanOutHeldResults).
func TestParallelInputText(t *testing.T) {
	in := `{"s":"` + strings.Repeat("x", 100_000) + `"}`
	rec := &keepAll{}
	sm := load(t, parallelDef(200))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res := engine.New(engine.Config{}).Execute(context.Background(), execution(sm, in), rec)
	runtime.ReadMemStats(&after)
	if res.Status != engine.StatusFailed || str(res.Error) != "States.DataLimitExceeded" {
		t.Fatalf("result %s %v %v", res.Status, str(res.Error), str(res.Cause))
	}
	if alloc := (after.TotalAlloc - before.TotalAlloc) >> 20; alloc > 16 {
		t.Errorf("allocated %d MB, want at most 16", alloc)
	}
	entered, exited := 0, 0
	for _, ev := range rec.events {
		if d := ev.StateEnteredEventDetails; d != nil && d.Name != "X" {
			entered++
			if d.Input != in {
				t.Fatalf("%s entered with %.40q…", d.Name, d.Input)
			}
		}
		if d := ev.StateExitedEventDetails; d != nil && d.Name != "X" {
			exited++
			if d.Output != in {
				t.Fatalf("%s exited with %.40q…", d.Name, d.Output)
			}
		}
	}
	if entered < 3 || exited < 3 || exited > entered {
		t.Fatalf("%d Entered and %d Exited events of branch states, want at least 3 each", entered, exited)
	}
}
