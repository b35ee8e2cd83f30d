package engine

import (
	"math"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/value"
)

// plan is one state compiled for running. Plans are built once per
// machine (planOf) and shared by every execution: what can be decided
// from the definition alone (event types, the next state, how a Task's
// resource shows in history) is decided then, not at each step.
type plan interface {
	// run runs the state on its raw input; next is "" when the state ends
	// its scope.
	run(t *thread, raw any) (out any, next string, f *failure)
	// common is what the plan knows of its state (nil for a broken plan).
	common() *base
}

// machinePlan is a compiled States scope: the top level, a Parallel
// branch or a Map's item processor.
type machinePlan struct {
	start  string
	first  plan // states[start]; nil when there is no such state
	states map[string]plan
	// inline tells that every state runs on its thread's goroutine and
	// hands nothing out: Pass, Choice, Succeed and Fail states only (no
	// task, wait, branch or iteration).
	inline bool
	// brief: inline, in JSONPath, with at most maxInline states, none
	// of which can be reached again from itself: a run goes through each
	// state once at most, quickly (Inline).
	brief bool
}

// planOf returns the compiled plan of sm, built the first time and kept
// with sm.
func planOf(sm *asl.StateMachine) *machinePlan {
	return sm.Prepared(func(sm *asl.StateMachine) any { return compileMachine(sm) }).(*machinePlan)
}

func compileMachine(sm *asl.StateMachine) *machinePlan {
	mp := &machinePlan{start: sm.StartAt, states: make(map[string]plan, len(sm.States)), inline: true}
	for name, st := range sm.States {
		mp.states[name] = compileState(st)
		switch mp.states[name].(type) {
		case *passPlan, *choicePlan, *succeedPlan, *failStatePlan:
		default:
			mp.inline = false
		}
	}
	mp.first = mp.states[mp.start]
	mp.brief = mp.inline && len(sm.States) <= maxInline && jsonPathOnly(sm) && acyclic(sm)
	inPlace(mp)
	// Each plan points at the plans it may go to next, so that a step
	// needs no map lookup.
	for name, st := range sm.States {
		b := mp.states[name].common()
		if b == nil {
			continue
		}
		targets := []string{b.next}
		if st.Type == asl.TypeChoice {
			targets = targets[:0]
			for _, rule := range st.Choices {
				targets = append(targets, rule.Next)
			}
			targets = append(targets, st.Default)
		}
		for _, n := range targets {
			if p := mp.states[n]; p != nil && b.linked(n) == nil {
				b.links = append(b.links, link{name: n, p: p})
			}
		}
	}
	return mp
}

// inPlace decides which states of a scope work on an object their
// thread holds alone (thread.owned): a JSONPath Pass whose Parameters
// build a new object (without Result: the object is its output) builds
// it with room for one more member, when a JSONPath Pass of the scope
// can set that member in place: its Result at a ResultPath of one name
// ("$.name"), without Assign. A JSONPath Pass or Choice hands its input
// to no one and keeps its thread's object; any other state drops it.
func inPlace(mp *machinePlan) {
	grows := false
	for _, p := range mp.states {
		pp, ok := p.(*passPlan)
		if !ok || pp.flow != jsonPath {
			continue
		}
		st := pp.st
		if pf := st.ResultPath; st.HasResult && st.Assign == nil && pf != nil && pf.Path != nil {
			if name, ok := pf.Path.Member(); ok {
				pp.member, grows = name, true
				// The member's text: its key, quoted, a colon, its value.
				n := 1
				value.SizeWithin(name, &n, math.MaxInt)
				value.SizeWithin(st.Result, &n, math.MaxInt)
				pp.memberSize = n
			}
		}
	}
	for _, p := range mp.states {
		switch p := p.(type) {
		case *passPlan:
			if p.flow == jsonPath {
				p.keepsOwned = true
				if grows && !p.st.HasResult && p.st.Parameters.Fresh() {
					p.room = 1
				}
			}
		case *choicePlan:
			p.keepsOwned = p.flow == jsonPath
		}
	}
}

// link is a plan a state may go to next, by the name of its state.
type link struct {
	name string
	p    plan
}

// base is what every plan knows of its state.
type base struct {
	st    *asl.State
	types [2]history.EventType // its Entered and Exited events
	next  string               // "" when the state ends its scope
	flow  dataFlow
	links []link // the plans of next or a Choice's targets, in its scope
	// keepsOwned, room and member: see inPlace.
	keepsOwned bool   // the state keeps its thread's owned object
	room       int    // a Pass's Parameters build an object with this many more members
	member     string // a Pass sets its Result as this member of an owned object in place
	memberSize int    // the length of that member's JSON text (thread.grown)
}

func (b *base) common() *base { return b }

// linked is the plan of the state named name the state may go to next,
// nil when it has no link to it.
func (b *base) linked(name string) plan {
	for i := range b.links {
		if b.links[i].name == name {
			return b.links[i].p
		}
	}
	return nil
}

// compileState builds the plan of one state.
func compileState(st *asl.State) plan {
	b := base{st: st, types: eventTypes[st.Type], flow: jsonPath}
	if st.QueryLanguage == asl.JSONata {
		b.flow = jsonAta
	}
	if !st.End {
		b.next = st.Next
	}
	switch st.Type {
	case asl.TypePass:
		return &passPlan{b}
	case asl.TypeChoice:
		return &choicePlan{b}
	case asl.TypeWait:
		return &waitPlan{b}
	case asl.TypeSucceed:
		return &succeedPlan{b}
	case asl.TypeFail:
		return &failStatePlan{b}
	case asl.TypeTask:
		return newTaskPlan(b)
	case asl.TypeParallel:
		return &parallelPlan{base: b, branches: st.Branches}
	case asl.TypeMap:
		return &mapPlan{base: b, distributed: st.ProcessorMode == "DISTRIBUTED"}
	}
	return brokenPlan{fault.New(fault.Runtime, "unknown state type "+string(st.Type))}
}

// brokenPlan is a state that cannot run: it fails the execution.
type brokenPlan struct{ err *fault.Error }

func (p brokenPlan) run(t *thread, _ any) (any, string, *failure) { return nil, "", t.fatalf(p.err) }

func (brokenPlan) common() *base { return nil }

// runMachine runs a States scope from StartAt until it ends.
func (t *thread) runMachine(sm *asl.StateMachine, input any) (any, *failure) {
	mp := planOf(sm)
	name, p := mp.start, mp.first
	if t.owned != nil {
		t.owned = nil // of a scope that ended (thread.owned)
	}
	for {
		if !t.quiet() && t.ctx.Err() != nil && t.log.next() == nil {
			return nil, t.aborted()
		}
		if p == nil {
			return nil, t.fatalf(fault.New(fault.Runtime, "The state '"+name+"' does not exist."))
		}
		out, next, f := p.run(t, input)
		switch {
		case t.ex.rec == nil:
			// No history to write.
		case f == nil && next != "" && effectless(p) && t.ex.mayDefer(t.liveAt()):
			// A Pass or Choice state changes nothing outside the
			// execution: its events go out with the next durable write
			// (before a task's invocation, a wait, a branch's end, the
			// execution's end, once maxUnflushed events wait, or when
			// the first write is due), and
			// after a crash it simply runs again from the last durable
			// event. Nothing outside has seen its events then. Nor does
			// a write separate them from the next state's Entered event:
			// it takes the time of the latest (one clock read fewer per
			// state).
			t.enterAtLast = !t.liveAt().IsZero()
		case (f == nil && next != "") || t.name != "":
			// When the top-level scope ends, the execution's terminal
			// event is flushed with these events, in one durable write.
			t.ex.flush()
		}
		if f != nil {
			return nil, f
		}
		if next == "" {
			return out, nil
		}
		input = out
		name = next
		if b := p.common(); b != nil {
			p = b.linked(name)
		}
		if p == nil {
			p = mp.states[name]
		}
	}
}

// quiet tells, without a call, that t.ctx is not cancelled when it is
// its execution's own context (the top-level thread's), not made and
// under context.Background() (the commonest case: Execute's). False
// says nothing: ask t.ctx.Err().
func (t *thread) quiet() bool {
	c, ok := t.ctx.(*execCtx)
	return ok && c.bg && c.made.Load() == nil && !c.cancelled.Load()
}

// maxUnflushed bounds how many events of effectless states wait for the
// next durable write, so that a long loop of Pass and Choice states still
// shows its progress in the history and keeps little in memory.
const maxUnflushed = 256

// effectless tells whether a state's plan has no effect outside its
// execution (Pass, Choice).
func effectless(p plan) bool {
	switch p.(type) {
	case *passPlan, *choicePlan:
		return true
	}
	return false
}

// acyclic tells whether no state of sm reachable from StartAt can be
// reached again from itself (asl.State.Transitions).
func acyclic(sm *asl.StateMachine) bool {
	const (
		unseen = iota
		visiting
		done
	)
	mark := make(map[string]int, len(sm.States))
	var visit func(name string) bool
	visit = func(name string) bool {
		switch mark[name] {
		case visiting:
			return false
		case done:
			return true
		}
		mark[name] = visiting
		ok := true
		if st := sm.States[name]; st != nil {
			st.Transitions(func(target, _ string, _ int) bool {
				ok = visit(target)
				return ok
			})
		}
		mark[name] = done
		return ok
	}
	return visit(sm.StartAt)
}

// jsonPathOnly tells whether every state of sm is in JSONPath.
func jsonPathOnly(sm *asl.StateMachine) bool {
	for _, st := range sm.States {
		if st.QueryLanguage == asl.JSONata {
			return false
		}
	}
	return true
}
