package engine

// A Distributed Map whose ProcessorConfig.ExecutionType is STANDARD runs
// each item (or batch) as a child execution of its own, through the
// execution's ChildRunner (Execution.Children): the runner records the
// child's row and history and drives it like any execution (Describe,
// GetExecutionHistory, Stop), and is idempotent per child, so that a
// parent resumed after a crash, or redriven, finds the children that
// already ran instead of running them again. Children are named as AWS
// names them: arn:…:execution:<machine>/<label>:<uuid>, their state
// machine arn:…:stateMachine:<machine>/<label>; each child's name is
// derived from its Map Run and index, so that it is the same at every
// run of the parent.
//
// EXPRESS children, and STANDARD ones when no runner is set, run inside
// the parent's process as threads that record no history (cheap: the
// one-million-item benchmark's children). When the runner is also an
// ExpressRecorder, each EXPRESS child is told to it as it starts and
// ends, named arn:…:express:<machine>/<label>:<name>:<id>, so that it can
// be listed and described as AWS lists and describes a Map Run's Express
// children; else they have names in the ResultWriter's records only.

import (
	"context"
	"strconv"
	"strings"

	"github.com/stepwell/stepwell/asl"
	"github.com/stepwell/stepwell/fault"
	"github.com/stepwell/stepwell/internal/uuid"
	"github.com/stepwell/stepwell/value"
)

// ChildRunner runs the STANDARD child executions of Distributed Maps
// (Execution.Children).
type ChildRunner interface {
	// RunChild runs c to its end and returns how it ended. A child that
	// exists already (the parent was resumed or redriven) is not started
	// again: a closed one returns its recorded end, unless it is to be
	// redriven (Child.ParentRedriveCount), a running one is continued.
	// When ctx ends, the child is stopped (ABORTED), or left running
	// when ctx's cause is ErrShutdown.
	RunChild(ctx context.Context, c *Child) Result
}

// ExpressRecorder is told of the EXPRESS children of Distributed Maps,
// which run inside their parent (an optional interface of the
// ChildRunner). Both calls come from the child's goroutine, concurrently
// with the other children's; they must be cheap.
type ExpressRecorder interface {
	// ExpressChildStarted is told of c as it starts (c.Input is its
	// input text).
	ExpressChildStarted(c *Child)
	// ExpressChildEnded is told how c ended.
	ExpressChildEnded(c *Child, r Result)
}

// Child is one child execution of a Map Run.
type Child struct {
	// Execution is the child: its ARN, name, labelled state machine ARN,
	// input text, start time, and the ItemProcessor as its Machine.
	Execution
	// MapRunARN is the Map Run that started it; ParentARN its parent
	// execution.
	MapRunARN, ParentARN string
	// Index is its item's (or batch's) index in the Map Run.
	Index int
	// ParentRedriveCount is the parent's redrive count: a child that
	// ended unsuccessfully and has been redriven fewer times than that is
	// redriven (AWS's Map Run redrive).
	ParentRedriveCount int64
}

// ChildName is the name of the child execution of item index of the Map
// Run runARN: a UUID derived from both (the same at every run of the
// parent).
func ChildName(runARN string, index int) string {
	return uuid.Name(runARN + "#" + strconv.Itoa(index))
}

// ChildARNs returns, for the Map Run runARN (arn:…:mapRun:machine/label:id),
// the prefix of its children's execution ARNs (arn:…:execution:machine/label:)
// and their state machine ARN (arn:…:stateMachine:machine/label).
func ChildARNs(runARN string) (executionPrefix, machine string) {
	arn := strings.Replace(runARN, ":mapRun:", ":execution:", 1)
	if i := strings.LastIndexByte(arn, ':'); i >= 0 {
		executionPrefix = arn[:i+1]
	}
	m := strings.Replace(runARN, ":mapRun:", ":stateMachine:", 1)
	if i := strings.LastIndexByte(m, ':'); i >= 0 {
		m = m[:i]
	}
	return executionPrefix, m
}

// ExpressChildARN is the ARN of the EXPRESS child named name of the Map
// Run runARN at its parent's redriveCount-th run:
// arn:…:express:<machine>/<label>:<name>:<id>, its id derived from name
// and redriveCount (a redriven Map Run's children are new executions).
func ExpressChildARN(runARN, name string, redriveCount int64) string {
	base, _ := expressChildBase(runARN)
	return expressChildARN(base, name, redriveCount)
}

func expressChildARN(base, name string, redriveCount int64) string {
	return base + name + ":" + uuid.Name(name+"#"+strconv.FormatInt(redriveCount, 10))
}

// expressChildBase returns the EXPRESS children's ARN up to their name
// (arn:…:express:machine/label:) and their state machine ARN.
func expressChildBase(runARN string) (base, machine string) {
	base = strings.Replace(runARN, ":mapRun:", ":express:", 1)
	if i := strings.LastIndexByte(base, ':'); i >= 0 {
		base = base[:i+1]
	}
	_, machine = ChildARNs(runARN)
	return base, machine
}

// ownChildren tells whether a Distributed Map's children are executions
// of their own (run by the ChildRunner).
func (t *thread) ownChildren(st *asl.State) bool {
	return t.ex.x.Children != nil && st.ProcessorExecutionType == "STANDARD"
}

// runChild runs item i's child with input in: through the ChildRunner
// when the children are executions of their own, else in it (told to the
// runner when it is an ExpressRecorder). It returns the child's output or
// failure, its name and ARN ("" for a child known to no one), and its
// input text when it was written ("" else).
func (t *thread) runChild(it *thread, st *asl.State, cfg *mapConfig, i int, in any) (any, string, string, string, *failure) {
	if cfg.runARN == "" || t.ex.x.Children == nil {
		out, f := it.runMachine(st.ItemProcessor, in)
		return out, "", "", "", f
	}
	if !t.ownChildren(st) {
		rec, ok := t.ex.x.Children.(ExpressRecorder)
		if !ok {
			out, f := it.runMachine(st.ItemProcessor, in)
			return out, "", "", "", f
		}
		return t.runExpressChild(it, st, cfg, i, in, rec)
	}
	x := t.ex.x
	name := ChildName(cfg.runARN, i)
	prefix, machine := ChildARNs(cfg.runARN)
	c := &Child{
		Execution: Execution{
			ARN: prefix + name, Name: name, StateMachineARN: machine, StateMachineName: x.StateMachineName,
			RoleARN: x.RoleARN, Type: "STANDARD", Input: value.String(in), StartTime: t.ex.e.clock.Now(),
			Machine: st.ItemProcessor,
		},
		MapRunARN: cfg.runARN, ParentARN: x.ARN, Index: i, ParentRedriveCount: x.RedriveCount,
	}
	res := x.Children.RunChild(it.ctx, c)
	switch res.Status {
	case StatusSucceeded:
		text := "null"
		if res.Output != nil {
			text = *res.Output
		}
		out, err := value.ParseString(text)
		if err != nil {
			return nil, name, c.ARN, c.Input, it.fail(fault.New(fault.Runtime, "the output of child execution "+c.ARN+" is not JSON: "+err.Error()))
		}
		return out, name, c.ARN, c.Input, nil
	case StatusAborted:
		if it.ctx.Err() != nil {
			return nil, name, c.ARN, c.Input, it.aborted()
		}
	case StatusRunning:
		// The runner left it running: the process stops.
		return nil, name, c.ARN, c.Input, it.aborted()
	}
	fe := &fault.Error{}
	if res.Error != nil {
		fe.Name, fe.HasName = *res.Error, true
	}
	if res.Cause != nil {
		fe.Cause, fe.HasCause = *res.Cause, true
	}
	return nil, name, c.ARN, c.Input, it.fail(fe)
}

// runExpressChild runs item i's EXPRESS child with input in inside this
// execution, telling rec as it starts and ends.
func (t *thread) runExpressChild(it *thread, st *asl.State, cfg *mapConfig, i int, in any, rec ExpressRecorder) (any, string, string, string, *failure) {
	x := t.ex.x
	name := ChildName(cfg.runARN, i)
	c := &Child{
		Execution: Execution{
			ARN: expressChildARN(cfg.expressBase, name, x.RedriveCount), Name: name, StateMachineARN: cfg.childMachine,
			StateMachineName: x.StateMachineName, RoleARN: x.RoleARN, Type: "EXPRESS", Input: value.String(in),
			StartTime: t.ex.e.clock.Now(), Machine: st.ItemProcessor,
		},
		MapRunARN: cfg.runARN, ParentARN: x.ARN, Index: i, ParentRedriveCount: x.RedriveCount,
	}
	rec.ExpressChildStarted(c)
	out, f := it.runMachine(st.ItemProcessor, in)
	res := Result{StopTime: t.ex.e.clock.Now()}
	switch {
	case f == nil:
		res.Status = StatusSucceeded
		text := c.Input // a child that returns its input (a Pass)
		if !same(in, out) {
			text = value.String(out)
		}
		res.Output = &text
	case f.aborted:
		res.Status = StatusAborted
	default:
		res.Status = StatusFailed
		if f.err != nil {
			e, cause := f.err.Name, f.err.Cause
			res.Error, res.Cause = &e, &cause
		}
	}
	rec.ExpressChildEnded(c, res)
	return out, name, c.ARN, c.Input, f
}
