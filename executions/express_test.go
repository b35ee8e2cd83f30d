package executions_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/executions"
	"github.com/stepwell/stepwell/integrations"
	"github.com/stepwell/stepwell/integrations/mock"
	"github.com/stepwell/stepwell/internal/clock"
	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/memory"
)

const passDef = `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"ok":true},"End":true}}}`

func expressMachine(name, def string) *store.StateMachine {
	sm := machine(name, def)
	sm.Type = executions.TypeExpress
	return sm
}

// TestExpress_Stores: an Express execution started asynchronously lives
// in the Express store, never in the main one; a synchronous one is kept
// there only with ExpressHistory.
func TestExpress_Stores(t *testing.T) {
	ctx := context.Background()
	for _, keep := range []bool{false, true} {
		main, express := memory.New(memory.Options{}), memory.New(memory.Options{})
		svc := executions.New(executions.Config{Store: main, Express: express, ExpressHistory: keep, Scope: scope,
			Engine: engine.New(engine.Config{Region: scope.Region, AccountID: scope.Account})})
		t.Cleanup(func() { _ = svc.Close(ctx) })
		sm := expressMachine("fast", passDef)

		x, err := svc.Start(ctx, executions.StartInput{Machine: sm, Input: "{}"})
		if err != nil {
			t.Fatal(err)
		}
		f := &fixture{svc: svc}
		if got := f.closed(t, x.ARN); got.Status != store.StatusSucceeded || *got.Output != `{"ok":true}` {
			t.Fatalf("async express: %+v", got)
		}
		if _, err := main.GetExecution(ctx, x.ARN); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("async express in the main store: %v", err)
		}

		out, err := svc.StartSync(ctx, executions.StartInput{Machine: sm, Name: "sync", Input: "{}"})
		if err != nil {
			t.Fatal(err)
		}
		if out.Status != engine.StatusSucceeded || *out.Output != `{"ok":true}` || out.StopDate.Before(out.StartDate) {
			t.Fatalf("sync: %+v", out)
		}
		_, err = express.GetExecution(ctx, out.ARN)
		if kept := err == nil; kept != keep {
			t.Fatalf("ExpressHistory %v: sync execution kept %v (%v)", keep, kept, err)
		}
	}
}

// TestTestCases: an execution started with a test case runs its mocks, a
// test case the configuration lacks is refused, and a Standard
// execution's test case is kept for a resume.
func TestTestCases(t *testing.T) {
	ctx := context.Background()
	cfg, err := mock.Parse([]byte(`{"StateMachines":{"mocked":{"TestCases":{"Happy":{"Charge":"ChargeOK"}}}},
		"MockedResponses":{"ChargeOK":{"0":{"Return":{"charged":42}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	real := &flaky{calls: map[string]int{}}
	m := mock.New(cfg, integrations.NewRouter().Handle(func(string) bool { return true }, real))
	st, ver := memory.New(memory.Options{}), memory.NewVersions()
	svc := executions.New(executions.Config{Store: st, Versions: ver, TestCases: m, Scope: scope,
		Engine: engine.New(engine.Config{Invoker: m, Region: scope.Region, AccountID: scope.Account})})
	t.Cleanup(func() { _ = svc.Close(ctx) })
	if !svc.Mocked() {
		t.Fatal("Mocked without test cases")
	}
	f := &fixture{svc: svc, st: st, ver: ver}
	sm := machine("mocked", `{"StartAt":"Charge","States":{"Charge":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}`)

	x, err := svc.Start(ctx, executions.StartInput{Machine: sm, Input: "{}", TestCase: "Happy"})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.closed(t, x.ARN); got.Status != store.StatusSucceeded || *got.Output != `{"charged":42}` {
		t.Fatalf("mocked execution: %+v", got)
	}
	if f.meta(t, x.ARN).TestCase != "Happy" {
		t.Fatalf("test case not kept: %+v", f.meta(t, x.ARN))
	}
	if n := real.count("Charge"); n != 0 {
		t.Fatalf("the real integration was called %d times", n)
	}

	_, err = svc.Start(ctx, executions.StartInput{Machine: sm, Input: "{}", TestCase: "Missing"})
	var re *executions.RefusedError
	if !errors.Is(err, executions.ErrTestCase) || !errors.As(err, &re) || re.Message == "" {
		t.Fatalf("unknown test case: %v", err)
	}

	// Unmocked, the same machine calls the real integration.
	y, err := svc.Start(ctx, executions.StartInput{Machine: sm, Input: "{}"})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.closed(t, y.ARN); got.Status != store.StatusSucceeded || *got.Output != `"Charge"` {
		t.Fatalf("unmocked execution: %+v", got)
	}
}

// bindings is the mock invoker, counting the executions bound to a test
// case and not yet unbound.
type bindings struct {
	*mock.Invoker
	mu   sync.Mutex
	live map[string]bool
}

func (b *bindings) Bind(executionARN, machine, testCase string) error {
	err := b.Invoker.Bind(executionARN, machine, testCase)
	if err == nil {
		b.mu.Lock()
		b.live[executionARN] = true
		b.mu.Unlock()
	}
	return err
}

func (b *bindings) Unbind(executionARN string) {
	b.Invoker.Unbind(executionARN)
	b.mu.Lock()
	delete(b.live, executionARN)
	b.mu.Unlock()
}

func (b *bindings) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.live)
}

// TestTestCases_StartAgain: starting again, with another test case, an
// execution that is still running returns it and leaves its mocks as they
// were; a start that is refused binds nothing.
func TestTestCases_StartAgain(t *testing.T) {
	ctx := context.Background()
	cfg, err := mock.Parse([]byte(`{"StateMachines":{"mocked":{"TestCases":{"A":{"Charge":"R42"},"B":{"Charge":"R7"}}}},
		"MockedResponses":{"R42":{"0":{"Return":42}},"R7":{"0":{"Return":7}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	m := mock.New(cfg, integrations.NewRouter())
	b := &bindings{Invoker: m, live: map[string]bool{}}
	st, ver := memory.New(memory.Options{}), memory.NewVersions()
	svc := executions.New(executions.Config{Store: st, Versions: ver, TestCases: b, Scope: scope, Clock: clk, ParkAfter: -1,
		Engine: engine.New(engine.Config{Invoker: m, Clock: clk, Region: scope.Region, AccountID: scope.Account})})
	t.Cleanup(func() { _ = svc.Close(ctx) })
	f := &fixture{svc: svc, st: st, ver: ver}
	sm := machine("mocked", `{"StartAt":"Hold","States":{
		"Hold":{"Type":"Wait","Seconds":60,"Next":"Charge"},
		"Charge":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}`)

	x, err := svc.Start(ctx, executions.StartInput{Machine: sm, Name: "n", Input: "{}", TestCase: "A"})
	if err != nil {
		t.Fatal(err)
	}
	clk.BlockUntil(1) // waiting in Hold
	again, err := svc.Start(ctx, executions.StartInput{Machine: sm, Name: "n", Input: "{}", TestCase: "B"})
	if err != nil || again.ARN != x.ARN {
		t.Fatalf("start again while running: %+v, %v", again, err)
	}
	if _, err := svc.Start(ctx, executions.StartInput{Machine: sm, Name: "n", Input: `{"other":1}`, TestCase: "B"}); !errors.Is(err, executions.ErrExecutionAlreadyExists) {
		t.Fatalf("start again with another input: %v", err)
	}
	clk.Advance(time.Minute)
	if got := f.closed(t, x.ARN); got.Status != store.StatusSucceeded || *got.Output != `42` {
		t.Fatalf("execution started with test case A: %+v", got)
	}
	if f.meta(t, x.ARN).TestCase != "A" {
		t.Fatalf("test case kept: %+v", f.meta(t, x.ARN))
	}
	if _, err := svc.Start(ctx, executions.StartInput{Machine: sm, Name: "n", Input: "{}", TestCase: "B"}); !errors.Is(err, executions.ErrExecutionAlreadyExists) {
		t.Fatalf("start again once closed: %v", err)
	}
	if n := b.count(); n != 0 {
		t.Fatalf("%d executions still bound after their ends (refused starts bound)", n)
	}
}

// TestExpress_ContextRedriveCount: the Context object of an Express
// execution started asynchronously has Execution.RedriveCount (0), that
// of a StartSyncExecution one has none, as AWS records them.
func TestExpress_ContextRedriveCount(t *testing.T) {
	ctx := context.Background()
	main, express := memory.New(memory.Options{}), memory.New(memory.Options{})
	svc := executions.New(executions.Config{Store: main, Express: express, Scope: scope,
		Engine: engine.New(engine.Config{Region: scope.Region, AccountID: scope.Account})})
	t.Cleanup(func() { _ = svc.Close(ctx) })
	sm := expressMachine("ctx", `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"exec.$":"$$.Execution"},"End":true}}}`)

	x, err := svc.Start(ctx, executions.StartInput{Machine: sm, Input: "{}"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{svc: svc}
	if got := f.closed(t, x.ARN); got.Status != store.StatusSucceeded || !strings.Contains(*got.Output, `"RedriveCount":0`) {
		t.Fatalf("async express: %+v", got)
	}
	out, err := svc.StartSync(ctx, executions.StartInput{Machine: sm, Name: "sync", Input: "{}"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != engine.StatusSucceeded || strings.Contains(*out.Output, "RedriveCount") || !strings.Contains(*out.Output, `"Name":"sync"`) {
		t.Fatalf("sync: %+v", *out.Output)
	}
}
