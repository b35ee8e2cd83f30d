package e2e

import (
	"context"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// redriveDef: a Distributed Map of STANDARD children, one at a time; the
// child of item 3 fails unless it was redriven, which fails the Map Run
// (no failure tolerated) before items 4 and 5 start.
const redriveDef = `{"StartAt":"M","States":{"M":{"Type":"Map","Label":"rd","MaxConcurrency":1,"End":true,
"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"C","States":{
 "C":{"Type":"Choice","Choices":[{"And":[{"Variable":"$","NumericEquals":3},{"Variable":"$$.Execution.RedriveCount","NumericEquals":0}],"Next":"F"}],"Default":"P"},
 "F":{"Type":"Fail","Error":"Three","Cause":"item 3 fails before its redrive"},
 "P":{"Type":"Pass","End":true}}}}}}`

// TestMapRunRedrive: RedriveExecution on the parent of a failed Map Run
// runs again only its unsuccessful children: the failed child is
// redriven (its redriveCount is 1, its history gains ExecutionRedriven),
// the children that never started start, and the succeeded ones are
// left as they were (same stop date, no new events).
func TestMapRunRedrive(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	sm := createMachine(t, c, unique("redrive-dm"), redriveDef, "")
	st, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Input: aws.String(`[1,2,3,4,5]`)})
	if err != nil {
		t.Fatal(err)
	}
	if d := waitDone(t, c, *st.ExecutionArn); d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error) != "States.ExceedToleratedFailureThreshold" {
		t.Fatalf("parent: %s %s", d.Status, aws.ToString(d.Error))
	}
	runs, err := c.ListMapRuns(ctx, &sfn.ListMapRunsInput{ExecutionArn: st.ExecutionArn})
	if err != nil || len(runs.MapRuns) != 1 {
		t.Fatalf("map runs %v, %v", runs, err)
	}
	run := runs.MapRuns[0].MapRunArn
	type child struct {
		status  types.ExecutionStatus
		stop    string
		events  int
		redrive int32
	}
	children := func() map[string]child {
		t.Helper()
		l, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{MapRunArn: run})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]child{}
		for _, k := range l.Executions {
			d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: k.ExecutionArn})
			if err != nil {
				t.Fatal(err)
			}
			h, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: k.ExecutionArn})
			if err != nil {
				t.Fatal(err)
			}
			out[aws.ToString(d.Input)] = child{d.Status, d.StopDate.String(), len(h.Events), aws.ToInt32(d.RedriveCount)}
		}
		return out
	}
	before := children()
	if len(before) != 3 || before["1"].status != types.ExecutionStatusSucceeded || before["2"].status != types.ExecutionStatusSucceeded ||
		before["3"].status != types.ExecutionStatusFailed {
		t.Fatalf("children before the redrive: %+v", before)
	}
	if pending, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{MapRunArn: run, StatusFilter: "PENDING_REDRIVE"}); err != nil ||
		len(pending.Executions) != 1 {
		t.Fatalf("children pending redrive: %v, %v", pending, err)
	}
	if d, err := c.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: run}); err != nil || d.Status != types.MapRunStatusFailed ||
		d.ItemCounts.PendingRedrive == nil || *d.ItemCounts.PendingRedrive != d.ItemCounts.Failed+d.ItemCounts.Aborted || d.ItemCounts.Failed != 1 {
		t.Fatalf("failed map run: %+v, %v", d, err)
	}
	l, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{MapRunArn: run, StatusFilter: types.ExecutionStatusFailed})
	if err != nil || len(l.Executions) != 1 {
		t.Fatalf("failed children %v, %v", l, err)
	}
	_, err = c.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: l.Executions[0].ExecutionArn})
	wantAPIError[*types.ExecutionNotRedrivable](t, err) // only through its parent
	if _, err := c.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: st.ExecutionArn}); err != nil {
		t.Fatal(err)
	}
	if d := waitDone(t, c, *st.ExecutionArn); d.Status != types.ExecutionStatusSucceeded || aws.ToString(d.Output) != "[1,2,3,4,5]" {
		t.Fatalf("redriven parent: %s %s", d.Status, aws.ToString(d.Output))
	}
	// The parent's history: the Map Run redriven, not started again.
	h, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: st.ExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	var started, redriven int
	for _, e := range h.Events {
		switch e.Type {
		case types.HistoryEventTypeMapRunStarted:
			started++
		case types.HistoryEventTypeMapRunRedriven:
			if d := e.MapRunRedrivenEventDetails; d == nil || aws.ToString(d.MapRunArn) != *run || aws.ToInt32(d.RedriveCount) != 1 {
				t.Fatalf("MapRunRedriven %+v", d)
			}
			redriven++
		}
	}
	if started != 1 || redriven != 1 {
		t.Fatalf("%d MapRunStarted and %d MapRunRedriven events", started, redriven)
	}
	d, err := c.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: run})
	if err != nil || d.Status != types.MapRunStatusSucceeded || d.RedriveCount == nil || *d.RedriveCount != 1 || d.RedriveDate == nil ||
		d.ItemCounts.Succeeded != 5 || aws.ToInt64(d.ItemCounts.PendingRedrive) != 0 {
		t.Fatalf("redriven map run: %+v, %v", d, err)
	}
	after := children()
	var inputs []string
	for in, k := range after {
		inputs = append(inputs, in)
		if k.status != types.ExecutionStatusSucceeded {
			t.Fatalf("child %s is %s after the redrive", in, k.status)
		}
	}
	sort.Strings(inputs)
	if len(inputs) != 5 {
		t.Fatalf("children after the redrive: %v", inputs)
	}
	for _, in := range []string{"1", "2"} {
		if after[in] != before[in] {
			t.Fatalf("succeeded child %s ran again: %+v, then %+v", in, before[in], after[in])
		}
	}
	if after["3"].redrive != 1 || after["3"].events <= before["3"].events || after["4"].redrive != 0 || after["5"].redrive != 0 {
		t.Fatalf("child 3 %+v (before %+v), 4 %+v, 5 %+v", after["3"], before["3"], after["4"], after["5"])
	}
}
