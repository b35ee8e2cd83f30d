package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/history"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenResult is what a golden case checks: the result and the history
// (timestamps left out).
type goldenResult struct {
	Status  string            `json:"status"`
	Output  json.RawMessage   `json:"output,omitempty"`
	Error   *string           `json:"error,omitempty"`
	Cause   *string           `json:"cause,omitempty"`
	History []json.RawMessage `json:"history"`
}

var goldenStart = time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC)

// runGolden runs one testdata/golden/<case> directory: definition.json,
// input.json, optional invoker.json (a fakeInvoker script).
func runGolden(t *testing.T, dir string) goldenResult {
	t.Helper()
	def, err := os.ReadFile(filepath.Join(dir, "definition.json"))
	if err != nil {
		t.Fatal(err)
	}
	input, err := os.ReadFile(filepath.Join(dir, "input.json"))
	if err != nil {
		t.Fatal(err)
	}
	inv := &fakeInvoker{}
	if b, err := os.ReadFile(filepath.Join(dir, "invoker.json")); err == nil {
		if err := json.Unmarshal(b, &inv.script); err != nil {
			t.Fatalf("invoker.json: %v", err)
		}
	}
	sm, err := asl.Load(def, asl.Options{})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	clock := newFakeClock(t, goldenStart)
	e := engine.New(engine.Config{Clock: clock, Invoker: inv, Region: "us-east-1", AccountID: "123456789012"})
	x := &engine.Execution{
		ARN: "arn:aws:states:us-east-1:123456789012:execution:golden:run", Name: "run",
		StateMachineARN: "arn:aws:states:us-east-1:123456789012:stateMachine:golden", StateMachineName: "golden",
		RoleARN: "arn:aws:iam::123456789012:role/golden", Type: "STANDARD",
		Input: string(bytes.TrimSpace(input)), StartTime: goldenStart, Machine: sm,
	}
	rec := &keepAll{}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res := waitRun(t, e.Start(ctx, x, rec))
	g := goldenResult{Status: string(res.Status), Error: res.Error, Cause: res.Cause}
	if res.Output != nil {
		g.Output = json.RawMessage(*res.Output)
	}
	for _, ev := range rec.events {
		ev.Timestamp = time.Time{}
		b, err := json.Marshal(historyNoTime(ev))
		if err != nil {
			t.Fatal(err)
		}
		g.History = append(g.History, b)
	}
	return g
}

// historyNoTime drops the timestamp so golden files are stable.
func historyNoTime(ev history.Event) any {
	type plain history.Event
	return plain(ev)
}

func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/golden/*")
	if err != nil || len(dirs) == 0 {
		t.Fatal("no golden cases")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), virtual(func(t *testing.T) {
			g := runGolden(t, dir)
			got, err := json.MarshalIndent(g, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join(dir, "expected.json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("result differs from %s:\n got: %s\nwant: %s", path, got, want)
			}
		}))
	}
}
