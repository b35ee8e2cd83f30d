package mock

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/value"
)

// The example of the Step Functions Local documentation, unchanged.
const docExample = `{
  "StateMachines":{
    "LambdaSQSIntegration":{
      "TestCases":{
        "HappyPath":{"LambdaState":"MockedLambdaSuccess","SQSState":"MockedSQSSuccess"},
        "RetryPath":{"LambdaState":"MockedLambdaRetry","SQSState":"MockedSQSSuccess"},
        "HybridPath":{"LambdaState":"MockedLambdaSuccess"}
      }
    }
  },
  "MockedResponses":{
    "MockedLambdaSuccess":{"0":{"Return":{"StatusCode":200,"Payload":{"StatusCode":200,"body":"Hello from Lambda!"}}}},
    "LambdaMockedResourceNotReady":{"0":{"Throw":{"Error":"Lambda.ResourceNotReadyException","Cause":"Lambda resource is not ready."}}},
    "MockedSQSSuccess":{"0":{"Return":{"MD5OfMessageBody":"3bcb6e8e-7h85-4375-b0bc-1a59812c6e51","MessageId":"3bcb6e8e-8b51-4375-b0bc-1a59812c6e51"}}},
    "MockedLambdaRetry":{
      "0":{"Throw":{"Error":"Lambda.ResourceNotReadyException","Cause":"Lambda resource is not ready."}},
      "1-2":{"Throw":{"Error":"Lambda.TimeoutException","Cause":"Lambda timed out."}},
      "3":{"Return":{"StatusCode":200,"Payload":{"StatusCode":200,"body":"Hello from Lambda!"}}}
    }
  }
}`

// realInvoker stands for the real integrations.
// realInvoker stands for the real integrations (the token broker's Wrap
// of the router): it runs every task with "real", checks it (refusing
// every one when refuse is set) and resumes it with "resumed".
type realInvoker struct {
	calls, resumed int
	refuse         bool
}

func (r *realInvoker) Invoke(ctx context.Context, t *engine.Task) (any, error) {
	r.calls++
	return "real:" + t.StateName, nil
}

func (r *realInvoker) Check(ctx context.Context, t *engine.Task) error {
	if r.refuse {
		return errors.New("checked " + t.StateName)
	}
	return nil
}

func (r *realInvoker) Resume(ctx context.Context, t *engine.Task) (func() (any, error), error) {
	r.resumed++
	return func() (any, error) { return "resumed:" + t.StateName, nil }, nil
}

func newInvoker(t *testing.T) (*Invoker, *realInvoker) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "MockConfigFile.json")
	if err := os.WriteFile(path, []byte(docExample), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	r := &realInvoker{}
	return New(cfg, r), r
}

type outcome struct{ result, err string }

func run(m *Invoker, arn, state string, retry int) outcome {
	res, err := m.Invoke(context.Background(), &engine.Task{ExecutionARN: arn, StateName: state, RetryCount: retry,
		Resource: "arn:aws:states:::lambda:invoke"})
	if err != nil {
		return outcome{err: err.Error()}
	}
	return outcome{result: value.String(res)}
}

func TestRetryPath(t *testing.T) {
	m, r := newInvoker(t)
	if err := m.Bind("x1", "LambdaSQSIntegration", "RetryPath"); err != nil {
		t.Fatal(err)
	}
	want := []outcome{
		{err: "Lambda.ResourceNotReadyException: Lambda resource is not ready."},
		{err: "Lambda.TimeoutException: Lambda timed out."},
		{err: "Lambda.TimeoutException: Lambda timed out."},
		{result: `{"StatusCode":200,"Payload":{"StatusCode":200,"body":"Hello from Lambda!"}}`},
		// Past the last key the last response is reused.
		{result: `{"StatusCode":200,"Payload":{"StatusCode":200,"body":"Hello from Lambda!"}}`},
	}
	for retry, w := range want {
		if got := run(m, "x1", "LambdaState", retry); got != w {
			t.Errorf("attempt %d: got %+v, want %+v", retry, got, w)
		}
	}
	// A new entry into the state starts again at attempt 0.
	if got := run(m, "x1", "LambdaState", 0); got != want[0] {
		t.Errorf("new entry: %+v", got)
	}
	if got := run(m, "x1", "SQSState", 0); !strings.Contains(got.result, "MD5OfMessageBody") {
		t.Errorf("SQSState: %+v", got)
	}
	if r.calls != 0 {
		t.Errorf("real integration called %d times", r.calls)
	}
}

func TestHybridAndUnbound(t *testing.T) {
	m, r := newInvoker(t)
	if err := m.Bind("x2", "LambdaSQSIntegration", "HybridPath"); err != nil {
		t.Fatal(err)
	}
	if got := run(m, "x2", "SQSState", 0); got.result != `"real:SQSState"` {
		t.Errorf("unmocked state: %+v", got)
	}
	if got := run(m, "other", "LambdaState", 0); got.result != `"real:LambdaState"` {
		t.Errorf("unbound execution: %+v", got)
	}
	m.Unbind("x2")
	if got := run(m, "x2", "LambdaState", 0); got.result != `"real:LambdaState"` {
		t.Errorf("after Unbind: %+v", got)
	}
	if r.calls != 3 {
		t.Errorf("real calls = %d", r.calls)
	}
}

func TestThrowKeepsName(t *testing.T) {
	cfg, err := Parse([]byte(`{"StateMachines":{"M":{"TestCases":{"T":{"S":"R"}}}},"MockedResponses":{"R":{"0":{"Throw":{"Error":"E"}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	m := New(cfg, nil)
	if err := m.Bind("x", "M", "T"); err != nil {
		t.Fatal(err)
	}
	_, err = m.Invoke(context.Background(), &engine.Task{ExecutionARN: "x", StateName: "S"})
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Name != "E" || fe.HasCause {
		t.Errorf("err = %#v", err)
	}
	// Past the last key the last response is reused.
	_, err = m.Invoke(context.Background(), &engine.Task{ExecutionARN: "x", StateName: "S", RetryCount: 3})
	if !errors.As(err, &fe) || fe.Name != "E" {
		t.Errorf("second attempt: %v", err)
	}
}

func TestBindErrors(t *testing.T) {
	cfg, err := Parse([]byte(`{"StateMachines":{"M":{"TestCases":{"T":{"S":"Missing"}}}},"MockedResponses":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	m := New(cfg, nil)
	for _, tt := range []struct{ machine, tc, want string }{
		{"Nope", "T", "no test cases for state machine 'Nope'"},
		{"M", "Nope", "no test case 'Nope'"},
		{"M", "T", "mocked response 'Missing'"},
	} {
		if err := m.Bind("x", tt.machine, tt.tc); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Bind(%s, %s) = %v, want %q", tt.machine, tt.tc, err, tt.want)
		}
		if err := m.TestCase(tt.machine, tt.tc); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("TestCase(%s, %s) = %v, want %q", tt.machine, tt.tc, err, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`[]`, "must be a JSON object"},
		{`{"StateMachines":[]}`, "StateMachines must be an object"},
		{`{"StateMachines":{"M":{"TestCases":{"T":{"S":1}}}}}`, "must name a mocked response"},
		{`{"MockedResponses":{"R":{"x":{"Return":1}}}}`, "attempt number"},
		{`{"MockedResponses":{"R":{"2-1":{"Return":1}}}}`, "attempt number"},
		{`{"MockedResponses":{"R":{"0":{}}}}`, "needs Return or Throw"},
		{`{"MockedResponses":{"R":{"0":{"Return":1,"Throw":{}}}}}`, "both"},
		{`{"MockedResponses":{"R":{"0-2":{"Return":1},"1":{"Return":2}}}}`, "defined twice"},
		{`{"MockedResponses":{"R":{"0":{"Throw":{"Error":1}}}}}`, "Throw.Error must be a string"},
		{`{"MockedResponses":{"R":{}}}`, "no responses"},
		{`{`, ""},
	} {
		_, err := Parse([]byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%s) = %v, want %q", tt.in, err, tt.want)
		}
	}
}

func TestPick(t *testing.T) {
	answers := []answer{{first: 0, last: 0, ret: "a"}, {first: 1, last: 2, ret: "b"}, {first: 5, last: 5, ret: "c"}}
	for n, want := range map[int64]string{0: "a", 1: "b", 2: "b", 3: "b", 4: "b", 5: "c", 9: "c"} {
		if got := pick(answers, n).ret; got != want {
			t.Errorf("pick(%d) = %v, want %s", n, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(docExample))
	f.Add([]byte(`{"MockedResponses":{"R":{"0-1":{"Throw":{"Error":"E","Cause":"C"}}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data)
		if err != nil {
			return
		}
		m := New(cfg, nil)
		for machine, cases := range cfg.machines {
			for tc, states := range cases {
				if m.Bind("x", machine, tc) != nil {
					continue
				}
				for s := range states {
					_, _ = m.Invoke(context.Background(), &engine.Task{ExecutionARN: "x", StateName: s})
				}
			}
		}
	})
}

func TestCheckForwards(t *testing.T) {
	cfg, _ := Parse([]byte(docExample))
	m := New(cfg, &realInvoker{refuse: true})
	if err := m.Bind("x", "LambdaSQSIntegration", "HybridPath"); err != nil {
		t.Fatal(err)
	}
	if err := m.Check(context.Background(), &engine.Task{ExecutionARN: "x", StateName: "LambdaState"}); err != nil {
		t.Errorf("mocked state checked: %v", err)
	}
	if err := m.Check(context.Background(), &engine.Task{ExecutionARN: "x", StateName: "SQSState"}); err == nil || err.Error() != "checked SQSState" {
		t.Errorf("unmocked state: %v", err)
	}
	if err := New(cfg, &realInvoker{}).Check(context.Background(), &engine.Task{}); err != nil {
		t.Errorf("next passes: %v", err)
	}
	if err := New(cfg, nil).Check(context.Background(), &engine.Task{}); err != nil {
		t.Errorf("no next: %v", err)
	}
}

// TestResume: after a restart a mocked state answers from the mock, an
// unmocked task (or one of an unbound execution) is resumed by the next
// integration, never invoked again, and without one it is not resumable.
func TestResume(t *testing.T) {
	cfg, err := Parse([]byte(docExample))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		resume    bool // New gets a next integration
		arn       string
		state     string
		want      outcome
		resumed   int
		notResume bool
	}{
		{name: "mocked", resume: true, arn: "x", state: "LambdaState", want: outcome{result: `{"StatusCode":200,"Payload":{"StatusCode":200,"body":"Hello from Lambda!"}}`}},
		{name: "mocked without next", arn: "x", state: "LambdaState", want: outcome{result: `{"StatusCode":200,"Payload":{"StatusCode":200,"body":"Hello from Lambda!"}}`}},
		{name: "unmocked", resume: true, arn: "x", state: "SQSState", want: outcome{result: `"resumed:SQSState"`}, resumed: 1},
		{name: "unbound", resume: true, arn: "other", state: "LambdaState", want: outcome{result: `"resumed:LambdaState"`}, resumed: 1},
		{name: "unmocked without next", arn: "x", state: "SQSState", notResume: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			real := &realInvoker{}
			m := New(cfg, nil)
			if tt.resume {
				m = New(cfg, real)
			}
			if err := m.Bind("x", "LambdaSQSIntegration", "HybridPath"); err != nil {
				t.Fatal(err)
			}
			wait, err := m.Resume(context.Background(), &engine.Task{ExecutionARN: tt.arn, StateName: tt.state})
			if tt.notResume {
				if !errors.Is(err, engine.ErrNotResumable) {
					t.Fatalf("err %v, want ErrNotResumable", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got outcome
			if v, err := wait(); err != nil {
				got.err = err.Error()
			} else {
				got.result = value.String(v)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if real.resumed != tt.resumed || real.calls != 0 {
				t.Errorf("next resumed %d tasks (want %d) and invoked %d (want 0)", real.resumed, tt.resumed, real.calls)
			}
		})
	}
}
