package browser

import (
	"encoding/json"
	"fmt"
	"maps"
	"testing"

	"github.com/chromedp/chromedp"
)

// event is one history event in the API's shape, for status.js.
type event map[string]any

// history numbers the events (ids from 1; each follows the one before
// unless it names its previous event with "prev").
func history(evs ...event) []event {
	for i, e := range evs {
		e["id"] = i + 1
		if p, ok := e["prev"]; ok {
			e["previousEventId"] = p
			delete(e, "prev")
		} else {
			e["previousEventId"] = i
		}
		e["timestamp"] = 1796600000 + float64(i)/10
	}
	return evs
}

func entered(typ, name string) event {
	return event{"type": typ + "StateEntered", "stateEnteredEventDetails": map[string]any{"name": name, "input": "{}"}}
}

func exited(typ, name string) event {
	return event{"type": typ + "StateExited", "stateExitedEventDetails": map[string]any{"name": name, "output": "{}"}}
}

func plain(typ string) event { return event{"type": typ} }

func failed(typ, errName string) event {
	return event{"type": typ, "taskFailedEventDetails": map[string]any{"error": errName, "cause": "because"}}
}

func after(prev int, e event) event {
	e = maps.Clone(e)
	e["prev"] = prev
	return e
}

// TestStatuses checks how the console reads a history into the states'
// statuses and retries (status.js), in the browser that runs it.
func TestStatuses(t *testing.T) {
	requireBrowserTests(t)
	s := startServer(t, nil)
	b := newBrowser(t, "statuses")
	b.run("open", chromedp.Navigate(s.url+"/"))
	inside := map[string][]string{"P": {"A", "B"}, "M": {"I"}}
	tests := []struct {
		name string
		evs  []event
		want map[string]string // state → status/retries
	}{
		{"running task", history(plain("ExecutionStarted"), entered("Task", "A"), plain("TaskScheduled")),
			map[string]string{"A": "in-progress/0"}},
		{"retried then succeeded", history(plain("ExecutionStarted"), entered("Task", "A"), plain("TaskScheduled"), plain("TaskStarted"),
			failed("TaskFailed", "Busy"), plain("TaskScheduled"), plain("TaskStarted"), plain("TaskSucceeded"), exited("Task", "A"), plain("ExecutionSucceeded")),
			map[string]string{"A": "succeeded/1"}},
		{"caught", history(plain("ExecutionStarted"), entered("Task", "A"), plain("TaskScheduled"), failed("TaskFailed", "Busy"),
			exited("Task", "A"), entered("Pass", "Handle"), exited("Pass", "Handle"), plain("ExecutionSucceeded")),
			map[string]string{"A": "caught/0", "Handle": "succeeded/0"}},
		{"failed", history(plain("ExecutionStarted"), entered("Task", "A"), plain("TaskScheduled"), failed("TaskFailed", "Boom"),
			event{"type": "ExecutionFailed", "executionFailedEventDetails": map[string]any{"error": "Boom"}}),
			map[string]string{"A": "failed/0"}},
		{"aborted", history(plain("ExecutionStarted"), entered("Wait", "W"), plain("ExecutionAborted")),
			map[string]string{"W": "aborted/0"}},
		{"redriven", history(plain("ExecutionStarted"), entered("Pass", "X"), exited("Pass", "X"), entered("Task", "A"), failed("TaskFailed", "Boom"),
			plain("ExecutionFailed"), plain("ExecutionRedriven"), after(0, entered("Task", "A")), plain("TaskSucceeded"), exited("Task", "A"), plain("ExecutionSucceeded")),
			map[string]string{"X": "succeeded/0", "A": "succeeded/0"}},
		// A Parallel whose branch B fails: A (still running) is cancelled,
		// B failed, the Parallel's failure caught.
		{"parallel caught", history(plain("ExecutionStarted"), entered("Parallel", "P"), plain("ParallelStateStarted"),
			after(3, entered("Task", "A")), after(3, entered("Fail", "B")), after(5, plain("ParallelStateFailed")), exited("Parallel", "P"), plain("ExecutionSucceeded")),
			map[string]string{"P": "caught/0", "A": "aborted/0", "B": "failed/0"}},
		// A Map whose two iterations run at once.
		{"map iterations", history(plain("ExecutionStarted"), entered("Map", "M"), plain("MapStateStarted"),
			event{"type": "MapIterationStarted", "mapIterationStartedEventDetails": map[string]any{"name": "M", "index": 0}},
			after(3, event{"type": "MapIterationStarted", "mapIterationStartedEventDetails": map[string]any{"name": "M", "index": 1}}),
			after(4, entered("Pass", "I")), after(5, entered("Pass", "I")), after(7, exited("Pass", "I")),
			event{"type": "MapIterationSucceeded", "mapIterationSucceededEventDetails": map[string]any{"name": "M", "index": 1}}),
			map[string]string{"M": "in-progress/0", "I": "in-progress/0"}},
	}
	for _, tc := range tests {
		evs, _ := json.Marshal(tc.evs)
		in, _ := json.Marshal(inside)
		js := fmt.Sprintf(`import('/assets/status.js').then((m) => {
			const inside = %s;
			const r = m.analyze(%s, (n) => inside[n] || []);
			return Object.fromEntries([...r.states].map(([k, v]) => [k, v.status + '/' + v.retries]));
		})`, in, evs)
		var got map[string]string
		b.run(tc.name, evalInto(js, &got, chromedp.EvalAwaitPromise))
		for name, want := range tc.want {
			if got[name] != want {
				t.Errorf("%s: state %s is %q, want %q (all: %v)", tc.name, name, got[name], want, got)
			}
		}
	}
}

// TestPointerLines checks the lines the editor puts diagnostics on
// (json.js), and its syntax errors.
func TestPointerLines(t *testing.T) {
	requireBrowserTests(t)
	s := startServer(t, nil)
	b := newBrowser(t, "json")
	b.run("open", chromedp.Navigate(s.url+"/"))
	text := "{\n  \"StartAt\": \"A\",\n  \"States\": {\n    \"A\": {\"Type\": \"Pass\",\n      \"Next\": \"B\"},\n    \"a/b~c\": {\"Type\": \"Succeed\"},\n    \"L\": {\"Type\": \"Parallel\", \"Branches\": [\n      {}, \n      {\"StartAt\": \"x\"}]}\n  }\n}"
	tests := []struct {
		pointer string
		line    int
	}{
		{"", 1}, {"/StartAt", 2}, {"/States", 3}, {"/States/A", 4}, {"/States/A/Type", 4}, {"/States/A/Next", 5},
		{"/States/a~1b~0c", 6}, {"/States/L/Branches/1/StartAt", 9}, {"/States/L/Branches/0", 8},
		{"/States/A/Nope/Deeper", 4}, // nearest ancestor found
	}
	for _, tc := range tests {
		var got int
		js := fmt.Sprintf(`import('/assets/json.js').then((m) => m.lineOf(m.pointerLines(%s).lines, %q))`, jsString(text), tc.pointer)
		b.run(tc.pointer, evalInto(js, &got, chromedp.EvalAwaitPromise))
		if got != tc.line {
			t.Errorf("pointer %q: line %d, want %d", tc.pointer, got, tc.line)
		}
	}
	for _, tc := range []struct {
		text         string
		line, column int
	}{
		{"{\n  \"a\": 1,\n}", 3, 1},
		{"{\"a\" 1}", 1, 6},
		{"[1, 2", 1, 6},
		{"{}\nx", 2, 1},
	} {
		var got struct{ Line, Column int }
		js := fmt.Sprintf(`import('/assets/json.js').then((m) => m.pointerLines(%s).error)`, jsString(tc.text))
		b.run("syntax "+tc.text, evalInto(js, &got, chromedp.EvalAwaitPromise))
		if got.Line != tc.line || got.Column != tc.column {
			t.Errorf("%q: error at %d:%d, want %d:%d", tc.text, got.Line, got.Column, tc.line, tc.column)
		}
	}
}

// TestChoiceLabels checks the text of Choice rules on the graph's edges
// (graph.js condition), JSONPath and JSONata.
func TestChoiceLabels(t *testing.T) {
	requireBrowserTests(t)
	s := startServer(t, nil)
	b := newBrowser(t, "labels")
	b.run("open", chromedp.Navigate(s.url+"/"))
	tests := []struct {
		rule string
		want string
	}{
		{`{"Variable": "$.n", "NumericGreaterThan": 3}`, `$.n > 3`},
		{`{"Variable": "$.s", "StringEquals": "go"}`, `$.s == "go"`},
		{`{"Variable": "$.a", "NumericLessThanEqualsPath": "$.b"}`, `$.a <= $.b`},
		{`{"Variable": "$.x", "IsPresent": false}`, `$.x is not present`},
		{`{"Variable": "$.s", "StringMatches": "log-*"}`, `$.s matches "log-*"`},
		{`{"And": [{"Variable": "$.a", "BooleanEquals": true}, {"Not": {"Variable": "$.b", "IsNull": true}}]}`, `($.a == true) and (not ($.b is null))`},
		{`{"Or": [{"Variable": "$.t", "TimestampLessThan": "2026-01-01T00:00:00Z"}, {"Variable": "$.u", "IsNumeric": true}]}`, `($.t < "2026-01-01T00:00:00Z") or ($.u is numeric)`},
		{`{"Condition": "{% $states.input.n > 3 %}"}`, `{% $states.input.n > 3 %}`},
	}
	for _, tc := range tests {
		var got string
		js := fmt.Sprintf(`import('/assets/graph.js').then((m) => m.condition(%s))`, tc.rule)
		b.run(tc.rule, evalInto(js, &got, chromedp.EvalAwaitPromise))
		if got != tc.want {
			t.Errorf("%s: %q, want %q", tc.rule, got, tc.want)
		}
	}
}
