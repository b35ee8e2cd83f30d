// Package mock answers Task states from a Step Functions Local mock
// configuration file (MockConfigFile.json), so that a state machine's paths
// can be tested without calling the services its tasks integrate with.
//
// The file format is Step Functions Local's, unchanged:
//
//	{
//	  "StateMachines": {
//	    "<state machine name>": {
//	      "TestCases": {
//	        "<test case>": {"<state name>": "<mocked response name>", ...}
//	      }
//	    }
//	  },
//	  "MockedResponses": {
//	    "<mocked response name>": {
//	      "0":   {"Return": <any JSON>},
//	      "1-2": {"Throw": {"Error": "<name>", "Cause": "<text>"}}
//	    }
//	  }
//	}
//
// An execution uses a test case when it is started with
// arn:...:stateMachine:<name>#<test case> (Invoker.Bind records it). While it
// runs, every Task state named in the test case is answered from its mocked
// response instead of the real integration; other tasks run as usual. The
// keys of a mocked response are attempt numbers ($$.State.RetryCount):
// "0" answers the first attempt, "1-2" the first two retries, and so on;
// each new entry into the state starts again at "0". An attempt past the
// last key reuses the last response. A mocked .waitForTaskToken task completes
// with the Return value at once, without waiting for a callback.
//
// The Invoker is the engine's outermost invoker, and its engine.Checker
// and engine.Resumer too (engine.Config's Checker and Resumer): it
// implements all three, and New takes an integration that has all three
// (Next) for the unmocked tasks, rather than hoping it has them.
package mock

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/stepwell/stepwell/engine"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/value"
)

// Config is a parsed mock configuration file.
type Config struct {
	// machines maps state machine name → test case → state name → mocked
	// response name.
	machines map[string]map[string]map[string]string
	// responses maps a mocked response name to its answers by attempt.
	responses map[string][]answer
}

// answer is one entry of a mocked response: attempts first..last.
type answer struct {
	first, last int64
	ret         any          // the Return value, when err is nil
	err         *fault.Error // the Throw
}

// Load reads and parses a mock configuration file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read mock config: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("mock config %s: %w", path, err)
	}
	return c, nil
}

// Parse parses a mock configuration. Both top-level fields are optional;
// what is present must have the documented shape.
func Parse(data []byte) (*Config, error) {
	v, err := value.Parse(data)
	if err != nil {
		return nil, err
	}
	root, ok := v.(*value.Object)
	if !ok {
		return nil, fmt.Errorf("the mock configuration must be a JSON object, got %s", value.TypeName(v))
	}
	c := &Config{machines: map[string]map[string]map[string]string{}, responses: map[string][]answer{}}
	if sms, ok := root.Get("StateMachines"); ok {
		if err := c.parseMachines(sms); err != nil {
			return nil, err
		}
	}
	if rs, ok := root.Get("MockedResponses"); ok {
		if err := c.parseResponses(rs); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *Config) parseMachines(v any) error {
	sms, ok := v.(*value.Object)
	if !ok {
		return fmt.Errorf("StateMachines must be an object, got %s", value.TypeName(v))
	}
	for i := 0; i < sms.Len(); i++ {
		name, sv := sms.At(i)
		sm, ok := sv.(*value.Object)
		if !ok {
			return fmt.Errorf("StateMachines.%s must be an object, got %s", name, value.TypeName(sv))
		}
		cases := map[string]map[string]string{}
		if tv, ok := sm.Get("TestCases"); ok {
			tcs, ok := tv.(*value.Object)
			if !ok {
				return fmt.Errorf("StateMachines.%s.TestCases must be an object, got %s", name, value.TypeName(tv))
			}
			for j := 0; j < tcs.Len(); j++ {
				tcName, tcv := tcs.At(j)
				tc, ok := tcv.(*value.Object)
				if !ok {
					return fmt.Errorf("StateMachines.%s.TestCases.%s must be an object, got %s", name, tcName, value.TypeName(tcv))
				}
				states := make(map[string]string, tc.Len())
				for k := 0; k < tc.Len(); k++ {
					state, rv := tc.At(k)
					r, ok := rv.(string)
					if !ok {
						return fmt.Errorf("StateMachines.%s.TestCases.%s.%s must name a mocked response, got %s",
							name, tcName, state, value.TypeName(rv))
					}
					states[state] = r
				}
				cases[tcName] = states
			}
		}
		c.machines[name] = cases
	}
	return nil
}

func (c *Config) parseResponses(v any) error {
	rs, ok := v.(*value.Object)
	if !ok {
		return fmt.Errorf("MockedResponses must be an object, got %s", value.TypeName(v))
	}
	for i := 0; i < rs.Len(); i++ {
		name, rv := rs.At(i)
		r, ok := rv.(*value.Object)
		if !ok {
			return fmt.Errorf("MockedResponses.%s must be an object, got %s", name, value.TypeName(rv))
		}
		var answers []answer
		for j := 0; j < r.Len(); j++ {
			key, av := r.At(j)
			a, err := parseAnswer(key, av)
			if err != nil {
				return fmt.Errorf("MockedResponses.%s.%s: %w", name, key, err)
			}
			answers = append(answers, a)
		}
		if len(answers) == 0 {
			return fmt.Errorf("MockedResponses.%s has no responses", name)
		}
		slices.SortFunc(answers, func(a, b answer) int {
			switch {
			case a.first < b.first:
				return -1
			case a.first > b.first:
				return 1
			}
			return 0
		})
		for k := 1; k < len(answers); k++ {
			if answers[k].first <= answers[k-1].last {
				return fmt.Errorf("MockedResponses.%s: attempt %d is defined twice", name, answers[k].first)
			}
		}
		c.responses[name] = answers
	}
	return nil
}

// parseRange reads "3" or "1-2".
func parseRange(key string) (first, last int64, err error) {
	a, b, isRange := strings.Cut(strings.TrimSpace(key), "-")
	first, err = strconv.ParseInt(strings.TrimSpace(a), 10, 64)
	if err != nil || first < 0 {
		return 0, 0, fmt.Errorf("the key must be an attempt number such as \"0\" or a range such as \"1-2\"")
	}
	last = first
	if isRange {
		last, err = strconv.ParseInt(strings.TrimSpace(b), 10, 64)
		if err != nil || last < first {
			return 0, 0, fmt.Errorf("the key must be an attempt number such as \"0\" or a range such as \"1-2\"")
		}
	}
	return first, last, nil
}

func parseAnswer(key string, v any) (answer, error) {
	first, last, err := parseRange(key)
	if err != nil {
		return answer{}, err
	}
	a := answer{first: first, last: last}
	o, ok := v.(*value.Object)
	if !ok {
		return a, fmt.Errorf("must be an object with Return or Throw, got %s", value.TypeName(v))
	}
	ret, hasReturn := o.Get("Return")
	tv, hasThrow := o.Get("Throw")
	switch {
	case hasReturn && hasThrow:
		return a, fmt.Errorf("has both Return and Throw")
	case hasReturn:
		a.ret = ret
	case hasThrow:
		t, ok := tv.(*value.Object)
		if !ok {
			return a, fmt.Errorf("the Throw must be an object with Error and Cause, got %s", value.TypeName(tv))
		}
		e := &fault.Error{}
		if ev, ok := t.Get("Error"); ok {
			s, ok := ev.(string)
			if !ok {
				return a, fmt.Errorf("Throw.Error must be a string, got %s", value.TypeName(ev))
			}
			e.Name, e.HasName = s, true
		}
		if cv, ok := t.Get("Cause"); ok {
			s, ok := cv.(string)
			if !ok {
				return a, fmt.Errorf("Throw.Cause must be a string, got %s", value.TypeName(cv))
			}
			e.Cause, e.HasCause = s, true
		}
		a.err = e
	default:
		return a, fmt.Errorf("needs Return or Throw")
	}
	return a, nil
}

// testCase resolves a test case: state name → answers.
func (c *Config) testCase(machine, name string) (map[string][]answer, error) {
	cases, ok := c.machines[machine]
	if !ok {
		return nil, fmt.Errorf("the mock configuration file defines no test cases for state machine '%s'", machine)
	}
	tc, ok := cases[name]
	if !ok {
		return nil, fmt.Errorf("the mock configuration file defines no test case '%s' for state machine '%s'", name, machine)
	}
	out := make(map[string][]answer, len(tc))
	for state, resp := range tc {
		answers, ok := c.responses[resp]
		if !ok {
			return nil, fmt.Errorf("test case '%s' of state machine '%s' uses the mocked response '%s', which MockedResponses does not define",
				name, machine, resp)
		}
		out[state] = answers
	}
	return out, nil
}

// Invoker answers the tasks of executions bound to a test case from their
// mocked responses and sends every other task to the next integration. It
// implements engine.Invoker, engine.Checker and engine.Resumer.
type Invoker struct {
	cfg  *Config
	next Next

	mu    sync.Mutex
	bound map[string]*binding // by execution ARN
}

// Next is what runs, checks and resumes the tasks a test case does not
// mock (the token broker's Wrap of the router is one): its engine.Checker
// and engine.Resumer are part of its type, so that the mock passes them on
// explicitly.
type Next interface {
	engine.Invoker
	engine.Checker
	engine.Resumer
}

// binding is one execution's test case: state name → answers.
type binding struct {
	states map[string][]answer
}

var (
	_ engine.Invoker = (*Invoker)(nil)
	_ engine.Checker = (*Invoker)(nil)
	_ engine.Resumer = (*Invoker)(nil)
)

// Check implements engine.Checker: a mocked state needs no check; other
// tasks are checked by the next integration.
func (m *Invoker) Check(ctx context.Context, t *engine.Task) error {
	if m.mocked(t) || m.next == nil {
		return nil
	}
	return m.next.Check(ctx, t)
}

// Resume implements engine.Resumer for a task attempt that was open when
// the process stopped. A mocked state answers from its mocked response, as
// Invoke would (nothing was sent and no token handed out, so answering
// again repeats no side effect); any other task is resumed by the next
// integration (engine.ErrNotResumable when there is none).
func (m *Invoker) Resume(ctx context.Context, t *engine.Task) (wait func() (any, error), err error) {
	if answers, ok := m.answers(t); ok {
		a := pick(answers, int64(t.RetryCount))
		return a.outcome, nil
	}
	if m.next == nil {
		return nil, engine.ErrNotResumable
	}
	return m.next.Resume(ctx, t)
}

// answers returns the mocked answers of t's state when t's execution is
// bound to a test case that mocks it.
func (m *Invoker) answers(t *engine.Task) ([]answer, bool) {
	m.mu.Lock()
	b := m.bound[t.ExecutionARN]
	m.mu.Unlock()
	if b == nil {
		return nil, false
	}
	answers, ok := b.states[t.StateName]
	return answers, ok
}

// mocked reports whether t's execution is bound to a test case that mocks
// t's state.
func (m *Invoker) mocked(t *engine.Task) bool {
	_, ok := m.answers(t)
	return ok
}

// New returns an Invoker over cfg (nil: no test cases) that runs, checks
// and resumes (after a restart) unmocked tasks with next (nil: unmocked
// tasks fail with States.Runtime).
func New(cfg *Config, next Next) *Invoker {
	if cfg == nil {
		cfg = &Config{}
	}
	return &Invoker{cfg: cfg, next: next, bound: map[string]*binding{}}
}

// TestCase fails unless the configuration has the test case testCase of
// the state machine named machine, with every mocked response it names:
// Bind of that test case then succeeds.
func (m *Invoker) TestCase(machine, testCase string) error {
	_, err := m.cfg.testCase(machine, testCase)
	return err
}

// Bind makes the execution executionARN of the state machine named
// machine use the test case testCase. It fails when the configuration has
// no such test case or the test case names an undefined mocked response.
func (m *Invoker) Bind(executionARN, machine, testCase string) error {
	states, err := m.cfg.testCase(machine, testCase)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.bound[executionARN] = &binding{states: states}
	m.mu.Unlock()
	return nil
}

// Unbind forgets the test case of an execution that has ended.
func (m *Invoker) Unbind(executionARN string) {
	m.mu.Lock()
	delete(m.bound, executionARN)
	m.mu.Unlock()
}

// Invoke answers t from its mocked response when its execution is bound
// to a test case that mocks t's state, and runs it with the next Invoker
// otherwise. The answer is the one for the attempt's number
// (t.RetryCount: 0 on each entry into the state, then 1, 2, ... on its
// retries).
func (m *Invoker) Invoke(ctx context.Context, t *engine.Task) (any, error) {
	if answers, ok := m.answers(t); ok {
		return pick(answers, int64(t.RetryCount)).outcome()
	}
	if m.next == nil {
		return nil, fault.New(fault.Runtime, "The resource '"+t.Resource+"' is not supported by this Stepwell server.")
	}
	return m.next.Invoke(ctx, t)
}

// outcome is the task result a answers: its Return value, or a copy of its
// Throw.
func (a answer) outcome() (any, error) {
	if a.err != nil {
		e := *a.err
		return nil, &e
	}
	return a.ret, nil
}

// pick returns the answer for attempt n: the entry whose range holds n,
// else the last entry starting before n, else the first.
func pick(answers []answer, n int64) answer {
	best := answers[0]
	for _, a := range answers {
		if a.first > n {
			break
		}
		best = a
		if n <= a.last {
			break
		}
	}
	return best
}
