package engine_test

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/history"
)

// benchMachine loads the shared pass-choice benchmark definition.
func benchMachine(b *testing.B) *asl.StateMachine { return benchMachineFile(b, "pass-choice.asl.json") }

// benchMachineFile loads a shared benchmark definition.
func benchMachineFile(b *testing.B, name string) *asl.StateMachine {
	b.Helper()
	def, err := os.ReadFile("../../shared/bench/" + name)
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
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	runPassChoice(b, sm, b.N, withHistory)
	cpu := (cpuTime() - cpu0).Seconds()
	sec := b.Elapsed().Seconds()
	if sec > 0 {
		b.ReportMetric(float64(b.N)/sec, "executions/s")
		b.ReportMetric(float64(b.N)*4/sec, "transitions/s")
	}
	if cpu > 0 {
		b.ReportMetric(float64(b.N)*4/cpu, "cpu-transitions/s")
	}
}

// runPassChoice runs n executions of a pass-choice machine, with inputs
// {"n": i % 10}.
func runPassChoice(b *testing.B, sm *asl.StateMachine, n int, withHistory bool) {
	e := engine.New(engine.Config{Region: "us-east-1", AccountID: "123456789012"})
	inputs := make([]string, 10)
	for i := range inputs {
		inputs[i] = `{"n": ` + strconv.Itoa(i) + `}`
	}
	start := time.Now()
	ctx := context.Background()
	for i := 0; i < n; i++ {
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
}

// BenchmarkPassChoiceJSONata runs the JSONata form of the pass-choice
// machine (../shared/bench/pass-choice.jsonata.asl.json) on one core and
// reports its transitions/s, then runs as many executions of the JSONPath
// machine (BenchmarkPassChoice's) in the same run and reports the ratio of
// the two rates (jsonata/jsonpath). On a shared machine the wall-clock
// rates follow its load; the rates per CPU second (cpu-transitions/s,
// the process's user and system time) follow it less.
func BenchmarkPassChoiceJSONata(b *testing.B) {
	ja := benchMachineFile(b, "pass-choice.jsonata.asl.json")
	jp := benchMachine(b)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	runPassChoice(b, ja, b.N, false)
	sec := b.Elapsed().Seconds()
	cpu1 := cpuTime()
	b.StopTimer()
	t0 := time.Now()
	runPassChoice(b, jp, b.N, false)
	base := time.Since(t0).Seconds()
	cpu2 := cpuTime()
	if sec <= 0 || base <= 0 {
		return
	}
	transitions := float64(b.N) * 4
	b.ReportMetric(transitions/sec, "transitions/s")
	b.ReportMetric(transitions/base, "jsonpath-transitions/s")
	b.ReportMetric(base/sec, "ratio-to-jsonpath")
	if jaCPU, jpCPU := (cpu1 - cpu0).Seconds(), (cpu2 - cpu1).Seconds(); jaCPU > 0 && jpCPU > 0 {
		b.ReportMetric(transitions/jaCPU, "cpu-transitions/s")
		b.ReportMetric(jpCPU/jaCPU, "cpu-ratio-to-jsonpath")
	}
}

// BenchmarkPassChoice runs the in-process interpreter without history: one
// execution visits 4 states (Pass, Choice, Pass, Pass).
func BenchmarkPassChoice(b *testing.B) { benchPassChoice(b, false) }

// BenchmarkPassChoiceHistory is BenchmarkPassChoice with a Recorder that
// keeps every event.
func BenchmarkPassChoiceHistory(b *testing.B) { benchPassChoice(b, true) }
