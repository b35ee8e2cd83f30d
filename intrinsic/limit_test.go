package intrinsic

import (
	"runtime"
	"strings"
	"testing"

	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/value"
)

// nested returns fn applied depth times, each call taking fanout copies of
// the level below (prefix gives a call's leading arguments); the leaves are
// leaf. At depth 8 and fan-out 4 that is 65,536 leaves.
func nested(fn, prefix, leaf string, depth, fanout int) string {
	if depth == 0 {
		return leaf
	}
	inner := nested(fn, prefix, leaf, depth-1, fanout)
	args := make([]string, fanout)
	for i := range args {
		args[i] = inner
	}
	return fn + "(" + prefix + strings.Join(args, ", ") + ")"
}

// TestValueLimit checks that every value an intrinsic builds is held to
// MaxValueBytes: nested calls that would multiply a 5 KB input into
// hundreds of megabytes fail with States.DataLimitExceeded, having
// allocated little; values under the limit are built as before.
func TestValueLimit(t *testing.T) {
	five := `{"s":"` + strings.Repeat("x", 5000) + `","a":[` + strings.Repeat(`"xxxxxxxx",`, 500) + `1]}`
	big := `{"s":"` + strings.Repeat("x", 100_000) + `","n":` + strings.Repeat("1", 400) + `}`
	tests := []struct {
		name, expr, input string
		wantLimit         bool
	}{
		{"nested Format, 8 deep", nested("States.Format", "'{}{}{}{}', ", "$.s", 8, 4), five, true},
		{"nested Format of objects", nested("States.Format", "'{}{}{}{}', ", "$", 8, 4), five, true},
		{"nested Array", nested("States.Array", "", "$", 8, 4), five, true},
		{"JsonToString of nested Array", "States.JsonToString(" + nested("States.Array", "", "$.a", 4, 4) + ")", five, true},
		{"nested JsonMerge", "States.JsonMerge(States.StringToJson(States.Format('\\{\"a\":\"{}\", \"b\":\"{}\"\\}', $.s, $.s)), States.StringToJson(States.Format('\\{\"c\":\"{}\", \"d\":\"{}\"\\}', $.s, $.s)), false)", big, true},
		{"ArrayPartition of a built array", "States.ArrayPartition(States.StringSplit(States.Format('{}{}', $.s, $.s), ''), 1)", big, false},
		{"Format under the limit", "States.Format('{}{}', $.s, $.s)", big, false},
		{"Format over the limit", "States.Format('{}{}{}', $.s, $.s, $.s)", big, true},
		{"Array under the limit", "States.Array($, $)", big, false},
		{"Array over the limit", "States.Array($, $, $)", big, true},
		{"JsonToString over the limit", "States.JsonToString(States.Array($, $, $))", big, true},
		{"many built arguments", "States.ArrayLength(States.Array(" + strings.Repeat("States.Format('{}', $.s), ", 9) + "States.Format('{}', $.s)))", big, true},
		{"Hash of a large value", "States.Hash(States.Array($, $), 'SHA-256')", big, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(tt.expr)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			r := &docResolver{Input: value.MustParse(tt.input)}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			v, err := c.Eval(r)
			runtime.ReadMemStats(&after)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
				t.Errorf("allocated %d MB, want at most 16", alloc>>20)
			}
			fe, isFault := fault.As(err)
			switch {
			case tt.wantLimit && (!isFault || fe.Name != fault.DataLimitExceeded):
				t.Fatalf("got %v, %v; want States.DataLimitExceeded", err, sizeOf(v))
			case !tt.wantLimit && tt.name == "Hash of a large value":
				if !isFault || fe.Name != fault.Runtime {
					t.Fatalf("got %v, want the Runtime error of a too-long Hash input", err)
				}
			case !tt.wantLimit && err != nil:
				t.Fatalf("got %v, want a value", err)
			case !tt.wantLimit && len(value.String(v)) > MaxValueBytes:
				t.Fatalf("built %d bytes, over the limit", len(value.String(v)))
			}
		})
	}
}

func sizeOf(v any) int {
	if v == nil {
		return 0
	}
	return len(value.String(v))
}
