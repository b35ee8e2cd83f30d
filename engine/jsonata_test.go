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

// TestQueryEvaluationErrors checks the States.QueryEvaluationError of a
// JSONata field of each kind: its cause, the EvaluationFailed event's
// location, and the event that event follows (the one before the state's
// Entered event, or the Entered event itself for a Wait's Seconds and
// Timestamp, as AWS links them).
func TestQueryEvaluationErrors(t *testing.T) {
	const prefix = "An error occurred while executing the state 'S' (entered at the event id #4). "
	tests := []struct {
		name, state, cause, location string
		afterEntered                 bool
	}{
		{"condition not boolean", `{"Type":"Choice","Choices":[{"Condition":"{% 1 %}","Next":"E"}],"Default":"E"}`,
			"The JSONata expression '1' specified for the field 'Condition' returned an unexpected result type. Expected 'boolean', but was 'number' for value: 1", "Condition", false},
		{"items not array", `{"Type":"Map","Items":"{% 'x' %}","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"Next":"E"}`,
			`The JSONata expression ''x'' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was 'string' for value: "x"`, "Items", false},
		{"map input not array", `{"Type":"Map","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"Next":"E"}`,
			`Map state input must be an array but was: {"a":1}`, "", false},
		{"error not string", `{"Type":"Fail","Error":"{% 1 %}"}`,
			"The JSONata expression '1' specified for the field 'Error' returned an unexpected result type. Expected 'string', but was 'number' for value: 1", "Error", false},
		{"evaluation error", `{"Type":"Pass","Output":{"x":["{% 'a' + 1 %}"]},"Next":"E"}`,
			`The JSONata expression ''a' + 1' specified for the field 'Output/x/0' threw an error during evaluation. T2001: The left side of the "+" operator must evaluate to a number`, "Output/x/0", false},
		{"undefined argument", `{"Type":"Parallel","Arguments":{"x":"{% $states.input.missing %}"},"Branches":[{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}],"Next":"E"}`,
			"The JSONata expression '$states.input.missing' specified for the field 'Arguments/x' returned nothing (undefined).", "Arguments/x", false},
		{"wait timestamp", `{"Type":"Wait","Timestamp":"{% 'tomorrow' %}","Next":"E"}`,
			"The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: tomorrow", "Timestamp", true},
		{"wait seconds negative", `{"Type":"Wait","Seconds":"{% -1 %}","Next":"E"}`,
			"The JSONata expression '-1' specified for the field 'Seconds' returned an unexpected result type. Expected 'integer', but was 'number' for value: -1", "Seconds", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			def := `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Next":"S"},"S":` + tc.state
			if strings.Contains(tc.state, `"E"`) {
				def += `,"E":{"Type":"Succeed"}`
			}
			def += `}}`
			e := engine.New(engine.Config{})
			rec := &keepAll{}
			res := e.Execute(context.Background(), execution(load(t, def), `{"a":1}`), rec)
			if res.Status != engine.StatusFailed || str(res.Error) != "States.QueryEvaluationError" || str(res.Cause) != prefix+tc.cause {
				t.Fatalf("result %s %s\n%s\nwant cause %s", res.Status, str(res.Error), str(res.Cause), prefix+tc.cause)
			}
			var found bool
			for _, ev := range rec.events {
				if ev.Type != "EvaluationFailed" {
					continue
				}
				found = true
				d := ev.EvaluationFailedEventDetails
				wantPrev := int64(3)
				if tc.afterEntered {
					wantPrev = 4
				}
				if d.Location != tc.location || d.State != "S" || str(d.Cause) != prefix+tc.cause || ev.PreviousEventID != wantPrev {
					t.Fatalf("EvaluationFailed %+v (location %q, previous %d), want location %q, previous %d", d, d.Location, ev.PreviousEventID, tc.location, wantPrev)
				}
			}
			if !found {
				t.Fatal("no EvaluationFailed event")
			}
		})
	}
}
