package engine_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/stepwell/stepwell/engine"
)

// TestVariableLimits checks AWS's quotas on variables, in both query
// languages: one variable or one Assign above 256 KiB fails the execution
// with States.DataLimitExceeded; so do the variables held together above
// 10 MiB.
func TestVariableLimits(t *testing.T) {
	// 42 states each assign a variable of 250,002 bytes: the 42nd passes
	// 10 MiB (10,485,760 bytes); of 240,002 bytes they stay within.
	var chain strings.Builder
	chain.WriteString(`{"QueryLanguage":"JSONata","StartAt":"S0","States":{`)
	for i := 0; i < 42; i++ {
		n := strconv.Itoa(i)
		next := `"Next":"S` + strconv.Itoa(i+1) + `"`
		if i == 41 {
			next = `"End":true`
		}
		if i > 0 {
			chain.WriteByte(',')
		}
		chain.WriteString(`"S` + n + `":{"Type":"Pass","Assign":{"v` + n + `":"{% $states.input.s %}"},` + next + `}`)
	}
	chain.WriteString(`}}`)
	tests := []struct {
		name, def string
		size      int // of the input string s
		ok        bool
	}{
		{"one variable", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"v":"{% $states.input.s %}"},"End":true}}}`, 262144, false},
		{"one assign", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"a":"{% $states.input.s %}","b":"{% $states.input.s %}"},"End":true}}}`, 140000, false},
		{"two assigns", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"a":"{% $states.input.s %}"},"Next":"B"},"B":{"Type":"Pass","Assign":{"b":"{% $states.input.s %}"},"End":true}}}`, 140000, true},
		{"jsonpath", `{"StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"v.$":"$.s"},"End":true}}}`, 262144, false},
		{"execution", chain.String(), 250000, false},
		{"execution within", chain.String(), 240000, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			input := `{"s":"` + strings.Repeat("y", tc.size) + `"}`
			e := engine.New(engine.Config{MaxPayloadBytes: 1 << 20})
			res := e.Execute(context.Background(), execution(load(t, tc.def), input), nil)
			if tc.ok {
				if res.Status != engine.StatusSucceeded {
					t.Fatalf("result %s %v %v", res.Status, str(res.Error), str(res.Cause))
				}
				return
			}
			if res.Status != engine.StatusFailed || str(res.Error) != "States.DataLimitExceeded" ||
				!strings.Contains(str(res.Cause), "assigned variables with a size exceeding the maximum number of bytes service limit") {
				t.Fatalf("result %s %v %v", res.Status, str(res.Error), str(res.Cause))
			}
		})
	}
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// TestDistributedMapScope checks that the children of a Distributed Map do
// not see the variables of the state machine that runs them (they are
// executions of their own), as an inline Map's iterations do.
func TestDistributedMapScope(t *testing.T) {
	def := func(mode string) string {
		return `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"outer":1},"Next":"M"},
"M":{"Type":"Map","Items":[1],"ItemProcessor":{"ProcessorConfig":{"Mode":"` + mode + `","ExecutionType":"STANDARD"},
"StartAt":"P","States":{"P":{"Type":"Pass","Output":"{% $outer %}","End":true}}},"End":true}}}`
	}
	e := engine.New(engine.Config{})
	res := e.Execute(context.Background(), execution(load(t, def("INLINE")), `{}`), nil)
	if res.Status != engine.StatusSucceeded || str(res.Output) != "[1]" {
		t.Fatalf("inline: %s %s %s", res.Status, str(res.Output), str(res.Cause))
	}
	res = e.Execute(context.Background(), execution(load(t, def("DISTRIBUTED")), `{}`), nil)
	if res.Status != engine.StatusFailed || str(res.Error) != "States.ExceedToleratedFailureThreshold" {
		t.Fatalf("distributed: %s %s %s", res.Status, str(res.Error), str(res.Cause))
	}
}
