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
// one-million-item benchmark's children): they have names in the
// ResultWriter's records only.

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

// ownChildren tells whether a Distributed Map's children are executions
// of their own (run by the ChildRunner).
func (t *thread) ownChildren(st *asl.State) bool {
	return t.ex.x.Children != nil && st.ProcessorExecutionType == "STANDARD"
}

// runChild runs item i's child with input in: through the ChildRunner
// when the children are executions of their own, else in it. It returns
// the child's output or failure, and its name ("" for a child run in
// it).
func (t *thread) runChild(it *thread, st *asl.State, cfg *mapConfig, i int, in any) (any, string, *failure) {
	if cfg.runARN == "" || !t.ownChildren(st) {
		out, f := it.runMachine(st.ItemProcessor, in)
		return out, "", f
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
			return nil, name, it.fail(fault.New(fault.Runtime, "the output of child execution "+c.ARN+" is not JSON: "+err.Error()))
		}
		return out, name, nil
	case StatusAborted:
		if it.ctx.Err() != nil {
			return nil, name, it.aborted()
		}
	case StatusRunning:
		// The runner left it running: the process stops.
		return nil, name, it.aborted()
	}
	fe := &fault.Error{}
	if res.Error != nil {
		fe.Name, fe.HasName = *res.Error, true
	}
	if res.Cause != nil {
		fe.Cause, fe.HasCause = *res.Cause, true
	}
	return nil, name, it.fail(fe)
}
