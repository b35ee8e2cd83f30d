package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// expressChildrenDef is a Distributed Map of EXPRESS children over inline
// items whose second item fails (tolerated).
const expressChildrenDef = `{"StartAt":"M","States":{"M":{"Type":"Map","Label":"xl","ItemsPath":"$.items","MaxConcurrency":2,
"ToleratedFailureCount":1,
"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"C","States":{
"C":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericEquals":2,"Next":"F"}],"Default":"P"},
"F":{"Type":"Fail","Error":"Two","Cause":"item two"},"P":{"Type":"Pass","End":true}}},
"End":true}}}`

// TestExpressChildren: a Map Run's EXPRESS children are listed by
// mapRunArn (page by page and by status) and described with their Map
// Run, as AWS lists and describes them; they have no history (AWS serves
// none for Express executions); the parent's machine lists only the
// parent.
func TestExpressChildren(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	name := unique("expresskids")
	sm := createMachine(t, c, name, expressChildrenDef, "")
	st, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm),
		Input: aws.String(`{"items":[{"n":1},{"n":2},{"n":3}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if d := waitDone(t, c, *st.ExecutionArn); d.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("execution: %s %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	lr, err := c.ListMapRuns(ctx, &sfn.ListMapRunsInput{ExecutionArn: st.ExecutionArn})
	if err != nil || len(lr.MapRuns) != 1 {
		t.Fatalf("map runs %v, %v", lr, err)
	}
	runArn := *lr.MapRuns[0].MapRunArn
	var kids []types.ExecutionListItem
	var token *string
	for pages := 0; ; pages++ {
		l, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{MapRunArn: aws.String(runArn), MaxResults: 2, NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Executions) > 2 {
			t.Fatalf("page of %d", len(l.Executions))
		}
		kids = append(kids, l.Executions...)
		if token = l.NextToken; token == nil {
			break
		}
	}
	if len(kids) != 3 {
		t.Fatalf("%d children listed, want 3", len(kids))
	}
	prefix := "arn:aws:states:us-east-1:111111111111:express:" + name + "/xl:"
	failed := 0
	for _, k := range kids {
		if !strings.HasPrefix(*k.ExecutionArn, prefix+*k.Name+":") || len(*k.Name) != 36 ||
			len(*k.ExecutionArn) != len(prefix)+36+1+36 ||
			*k.StateMachineArn != sm+"/xl" || aws.ToString(k.MapRunArn) != runArn || k.StopDate == nil {
			t.Fatalf("child %s (%s) of machine %s, run %s", aws.ToString(k.ExecutionArn), aws.ToString(k.Name),
				aws.ToString(k.StateMachineArn), aws.ToString(k.MapRunArn))
		}
		d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: k.ExecutionArn})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(d.MapRunArn) != runArn || *d.StateMachineArn != sm+"/xl" || d.Status != k.Status || d.StopDate == nil ||
			d.StartDate == nil || d.RedriveCount != nil {
			t.Fatalf("describe child: run %s, machine %s, status %s", aws.ToString(d.MapRunArn), *d.StateMachineArn, d.Status)
		}
		switch aws.ToString(d.Input) {
		case `{"n":2}`:
			failed++
			if d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error) != "Two" || aws.ToString(d.Cause) != "item two" || d.Output != nil {
				t.Fatalf("failed child: %s %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
			}
		case `{"n":1}`, `{"n":3}`:
			if d.Status != types.ExecutionStatusSucceeded || aws.ToString(d.Output) != aws.ToString(d.Input) {
				t.Fatalf("child: %s, input %s, output %s", d.Status, aws.ToString(d.Input), aws.ToString(d.Output))
			}
		default:
			t.Fatalf("child input %s", aws.ToString(d.Input))
		}
		_, err = c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: k.ExecutionArn})
		wantCode(t, err, "StateMachineTypeNotSupported")
	}
	if failed != 1 {
		t.Fatalf("%d failed children described, want 1", failed)
	}
	for status, want := range map[types.ExecutionStatus]int{types.ExecutionStatusFailed: 1, types.ExecutionStatusSucceeded: 2,
		types.ExecutionStatusRunning: 0} {
		l, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{MapRunArn: aws.String(runArn), StatusFilter: status})
		if err != nil || len(l.Executions) != want {
			t.Fatalf("%s children: %v, %v; want %d", status, l, err, want)
		}
	}
	l, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm)})
	if err != nil || len(l.Executions) != 1 || *l.Executions[0].ExecutionArn != *st.ExecutionArn {
		t.Fatalf("the machine's executions %v, %v", l, err)
	}
}
