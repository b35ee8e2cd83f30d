package engine_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/history"
)

// benchMachine loads the shared pass-choice benchmark definition.
func benchMachine(b *testing.B) *asl.StateMachine {
	b.Helper()
	def, err := os.ReadFile("../../shared/bench/pass-choice.asl.json")
	if err != nil {
		b.Skip("benchmark definition not found:", err)
	}
	sm, err := asl.Load(def, asl.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return sm
}

// countingRecorder keeps every event, as a store would.
type countingRecorder struct{ events []history.Event }

func (r *countingRecorder) Record(evs []history.Event) error {
	r.events = append(r.events, evs...)
	return nil
}

func benchPassChoice(b *testing.B, withHistory bool) {
	sm := benchMachine(b)
	e := engine.New(engine.Config{Region: "us-east-1", AccountID: "123456789012"})
	inputs := make([]string, 10)
	for i := range inputs {
		inputs[i] = `{"n": ` + strconv.Itoa(i) + `}`
	}
	start := time.Now()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		x := &engine.Execution{
			ARN: "arn:aws:states:us-east-1:123456789012:execution:bench:e", Name: "e",
			StateMachineARN: "arn:aws:states:us-east-1:123456789012:stateMachine:bench", StateMachineName: "bench",
			Type: "EXPRESS", Input: inputs[i%10], StartTime: start, Machine: sm,
		}
		var rec engine.Recorder
		if withHistory {
			rec = &countingRecorder{events: make([]history.Event, 0, 16)}
		}
		res := e.Execute(ctx, x, rec)
		if res.Status != engine.StatusSucceeded {
			b.Fatalf("execution %s: %v %v", res.Status, res.Error, res.Cause)
		}
	}
	sec := b.Elapsed().Seconds()
	if sec > 0 {
		b.ReportMetric(float64(b.N)/sec, "executions/s")
		b.ReportMetric(float64(b.N)*4/sec, "transitions/s")
	}
}

// BenchmarkPassChoice runs the in-process interpreter without history: one
// execution visits 4 states (Pass, Choice, Pass, Pass).
func BenchmarkPassChoice(b *testing.B) { benchPassChoice(b, false) }

// BenchmarkPassChoiceHistory is BenchmarkPassChoice with a Recorder that
// keeps every event.
func BenchmarkPassChoiceHistory(b *testing.B) { benchPassChoice(b, true) }
