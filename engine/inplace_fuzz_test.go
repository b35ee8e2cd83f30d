package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stepwell/stepwell/asl"
)

// FuzzInPlace builds machines of JSONPath Pass, Choice, Parallel and Map
// states from the fuzzer's bytes and checks that a run without history,
// where a Pass may set its Result in an object its thread holds alone
// (thread.owned), ends as the same run with history, where it never
// does, and as a second run without history (a reused execution).
func FuzzInPlace(f *testing.F) {
	for _, seed := range []string{"", "\x00", "\x01\x02\x03\x04\x05\x06", "\x05\x01\x01\x02\x00\x03\x04\x01\x02",
		"\x10\x20\x30\x40\x50\x60\x70\x80\x90", "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8", "\x02\x01\x00\x02\x01\x00\x02\x01\x00\x03"} {
		f.Add([]byte(seed))
	}
	e := New(Config{})
	f.Fuzz(func(t *testing.T, data []byte) { checkInPlace(t, e, data) })
}

// TestInPlace_Random is FuzzInPlace over 20,000 machines from a fixed
// random source.
func TestInPlace_Random(t *testing.T) {
	e := New(Config{})
	rnd := rand.New(rand.NewPCG(7, 7))
	data := make([]byte, 40)
	for range 20000 {
		for i := range data {
			data[i] = byte(rnd.Uint32())
		}
		checkInPlace(t, e, data)
	}
}

// checkInPlace runs the machine data makes (inPlaceMachine) with and
// without history and fails t if the results differ.
func checkInPlace(t *testing.T, e *Engine, data []byte) {
	t.Helper()
	def := inPlaceMachine(data)
	sm, err := asl.Load([]byte(def), asl.Options{})
	if err != nil {
		return // a combination the language refuses
	}
	const input = `{"n":1,"a":{"c":2},"items":[{"q":1},{"q":2}]}`
	x := func() *Execution {
		return &Execution{ARN: "arn:aws:states:us-east-1:123456789012:execution:m:x", Name: "x",
			Type: "EXPRESS", Input: input, Machine: sm}
	}
	want := summary(e.Execute(context.Background(), x(), discard{}))
	for i := range 2 {
		if got := summary(e.Execute(context.Background(), x(), nil)); got != want {
			t.Fatalf("run %d without history: %s\nwith history: %s\nmachine: %s", i, got, want, def)
		}
	}
}

// inPlaceMachine turns data into a chain of states S0, S1, …
func inPlaceMachine(data []byte) string {
	next := func() int {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return int(b)
	}
	pick := func(options ...string) string { return options[next()%len(options)] }
	n := 2 + next()%5
	var states []string
	for i := range n {
		to := fmt.Sprintf(`"Next":"S%d"`, i+1)
		if i == n-1 {
			to = `"End":true`
		}
		var st string
		switch next() % 8 {
		case 0:
			st = fmt.Sprintf(`{"Type":"Choice","Choices":[{"Variable":"$.n","IsPresent":true,"Next":"S%d"}],"Default":"S%d"}`, i+1, i+1)
			if i == n-1 {
				st = `{"Type":"Succeed"}`
			}
		case 1:
			st = `{"Type":"Parallel",` + to + pick(``, `,"ResultPath":"$.p"`, `,"ResultPath":"$.a"`, `,"ResultPath":null`) +
				`,"Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","Result":1,"ResultPath":"$.z","End":true}}}]}`
		case 2:
			st = `{"Type":"Map",` + to + `,"ItemsPath":"$.items"` + pick(``, `,"ResultPath":"$.items"`, `,"ResultPath":"$.m"`) +
				`,"ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass"` + pick(``, `,"Parameters":{"v.$":"$"}`) +
				`,"Result":true,"ResultPath":"$.seen","End":true}}}}`
		default:
			fields := []string{`"Type":"Pass"`, to}
			fields = append(fields, pick(``, `"InputPath":"$"`, `"InputPath":"$.a"`))
			fields = append(fields, pick(``, ``, `"Parameters":{"a.$":"$"}`, `"Parameters":{"a.$":"$.a","k":1}`,
				`"Parameters":{"n.$":"$.n","x":{"y.$":"$"}}`, `"Parameters":{"k":"v"}`, `"Parameters":{"a.$":"$.a","n.$":"$.n","items.$":"$.items"}`))
			fields = append(fields, pick(``, `"Result":1`, `"Result":{"r":1}`, `"Result":"s"`))
			fields = append(fields, pick(``, `"ResultPath":"$"`, `"ResultPath":"$.a"`, `"ResultPath":"$.n"`, `"ResultPath":"$.b"`,
				`"ResultPath":"$.a.c"`, `"ResultPath":null`, `"ResultPath":"$['b']"`))
			fields = append(fields, pick(``, ``, `"OutputPath":"$"`, `"OutputPath":"$.a"`, `"OutputPath":"$.x"`))
			var kept []string
			for _, fl := range fields {
				if fl != "" {
					kept = append(kept, fl)
				}
			}
			st = "{" + strings.Join(kept, ",") + "}"
		}
		states = append(states, fmt.Sprintf(`"S%d":%s`, i, st))
	}
	return `{"StartAt":"S0","States":{` + strings.Join(states, ",") + `}}`
}
