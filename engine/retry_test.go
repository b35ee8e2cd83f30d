package engine

import (
	"testing"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/fault"
)

func TestErrorMatches(t *testing.T) {
	tests := []struct {
		list []string
		err  *fault.Error
		want bool
	}{
		{[]string{"States.ALL"}, fault.New("Custom", "c"), true},
		{[]string{"States.ALL"}, fault.New(fault.Runtime, "c"), false},
		{[]string{"States.ALL"}, fault.New(fault.DataLimitExceeded, "c"), true},
		{[]string{"States.ALL"}, &fault.Error{}, true},
		{[]string{"States.TaskFailed"}, fault.New("Lambda.Unknown", "c"), true},
		{[]string{"States.TaskFailed"}, fault.NameOnly(fault.Timeout), false},
		{[]string{"States.Timeout"}, fault.NameOnly(fault.Timeout), true},
		{[]string{"A", "B"}, fault.New("B", ""), true},
		{[]string{"A"}, fault.New("a", ""), false},
	}
	for _, tt := range tests {
		if got := errorMatches(tt.list, tt.err); got != tt.want {
			t.Errorf("errorMatches(%v, %v) = %v, want %v", tt.list, tt.err, got, tt.want)
		}
	}
}

func TestRetryDelays(t *testing.T) {
	max5 := int64(5)
	tests := []struct {
		name  string
		rt    []*asl.Retrier
		errs  []string
		wants []float64 // -1: not retried
	}{
		{"backoff", []*asl.Retrier{{ErrorEquals: []string{"E"}, IntervalSeconds: 3, MaxAttempts: 3, BackoffRate: 2}},
			[]string{"E", "E", "E", "E"}, []float64{3, 6, 12, -1}},
		{"max delay", []*asl.Retrier{{ErrorEquals: []string{"E"}, IntervalSeconds: 3, MaxAttempts: 3, BackoffRate: 2, MaxDelaySeconds: &max5}},
			[]string{"E", "E", "E"}, []float64{3, 5, 5}},
		{"zero attempts", []*asl.Retrier{{ErrorEquals: []string{"E"}, IntervalSeconds: 1, MaxAttempts: 0, BackoffRate: 2}},
			[]string{"E"}, []float64{-1}},
		{"per-retrier counters", []*asl.Retrier{
			{ErrorEquals: []string{"A", "C"}, IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 1},
			{ErrorEquals: []string{"B"}, IntervalSeconds: 7, MaxAttempts: 5, BackoffRate: 1}},
			[]string{"A", "B", "C", "B", "A"}, []float64{1, 7, 1, 7, -1}},
		{"runtime never retried", []*asl.Retrier{{ErrorEquals: []string{"States.ALL"}, IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2}},
			[]string{fault.Runtime}, []float64{-1}},
	}
	for _, tt := range tests {
		var rs retries
		for i, e := range tt.errs {
			d, ok := rs.next(tt.rt, &failure{err: fault.New(e, "")})
			got := d
			if !ok {
				got = -1
			}
			if got != tt.wants[i] {
				t.Errorf("%s: error %d (%s): delay %v, want %v", tt.name, i, e, got, tt.wants[i])
			}
		}
	}
}

func TestJitterFullStaysInRange(t *testing.T) {
	rt := []*asl.Retrier{{ErrorEquals: []string{"E"}, IntervalSeconds: 10, MaxAttempts: 50, BackoffRate: 1, JitterStrategy: "FULL"}}
	var rs retries
	for i := 0; i < 50; i++ {
		d, ok := rs.next(rt, &failure{err: fault.New("E", "")})
		if !ok || d < 0 || d > 10 {
			t.Fatalf("attempt %d: delay %v ok %v", i, d, ok)
		}
	}
}

func TestJSONSizeExceeds(t *testing.T) {
	for _, n := range []int{0, 5, 9, 10, 11, 100} {
		v := []any{"abc", int64(12), 1.5, nil, true}
		text := `["abc",12,1.5,null,true]`
		if got, want := jsonSizeExceeds(v, n), len(text) > n; got != want {
			t.Errorf("limit %d: %v, want %v", n, got, want)
		}
	}
}
