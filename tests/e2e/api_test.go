package e2e

// Versions, aliases, tags, Map Runs, TestState, RedriveExecution, and the
// coverage of every operation of the API model.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
)

func TestVersionsAndAliases(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	// Create with publish: version 1.
	name := unique("versioned")
	cr, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String(name), Definition: aws.String(passDef), RoleArn: aws.String(role),
		Publish: true, VersionDescription: aws.String("first"),
	})
	if err != nil {
		t.Fatal(err)
	}
	sm := *cr.StateMachineArn
	if cr.StateMachineVersionArn == nil || *cr.StateMachineVersionArn != sm+":1" {
		t.Fatalf("create: %+v", cr)
	}
	v1 := *cr.StateMachineVersionArn
	// versionDescription without publish.
	_, err = c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String(unique("versioned-x")), Definition: aws.String(passDef), RoleArn: aws.String(role), VersionDescription: aws.String("d"),
	})
	wantAPIError[*types.ValidationException](t, err)

	// Publishing the same revision again is idempotent.
	p, err := c.PublishStateMachineVersion(ctx, &sfn.PublishStateMachineVersionInput{StateMachineArn: aws.String(sm)})
	if err != nil || *p.StateMachineVersionArn != v1 {
		t.Fatalf("republish: %v %+v", err, p)
	}
	_, err = c.PublishStateMachineVersion(ctx, &sfn.PublishStateMachineVersionInput{StateMachineArn: aws.String(sm), RevisionId: aws.String("nope")})
	wantAPIError[*types.ConflictException](t, err)
	_, err = c.PublishStateMachineVersion(ctx, &sfn.PublishStateMachineVersionInput{StateMachineArn: aws.String(machineArn + "absent")})
	wantAPIError[*types.StateMachineDoesNotExist](t, err)

	// Update with publish: version 2 runs the chain.
	u, err := c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(sm), Definition: aws.String(chainDef), Publish: true})
	if err != nil || u.StateMachineVersionArn == nil || *u.StateMachineVersionArn != sm+":2" {
		t.Fatalf("update: %v %+v", err, u)
	}
	v2 := *u.StateMachineVersionArn
	// PublishStateMachineVersion with the current revision id.
	p, err = c.PublishStateMachineVersion(ctx, &sfn.PublishStateMachineVersionInput{StateMachineArn: aws.String(sm), RevisionId: u.RevisionId})
	if err != nil || *p.StateMachineVersionArn != v2 {
		t.Fatalf("publish current revision: %v %+v", err, p)
	}

	d, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(v1)})
	if err != nil || *d.StateMachineArn != v1 || *d.Definition != passDef || d.Description == nil || *d.Description != "first" {
		t.Fatalf("describe v1: %v %+v", err, d)
	}
	lv, err := c.ListStateMachineVersions(ctx, &sfn.ListStateMachineVersionsInput{StateMachineArn: aws.String(sm)})
	if err != nil || len(lv.StateMachineVersions) != 2 || *lv.StateMachineVersions[0].StateMachineVersionArn != v2 {
		t.Fatalf("list versions: %v %+v", err, lv)
	}
	lv, err = c.ListStateMachineVersions(ctx, &sfn.ListStateMachineVersionsInput{StateMachineArn: aws.String(sm), MaxResults: 1})
	if err != nil || len(lv.StateMachineVersions) != 1 || lv.NextToken == nil {
		t.Fatalf("list versions page: %v %+v", err, lv)
	}
	lv, err = c.ListStateMachineVersions(ctx, &sfn.ListStateMachineVersionsInput{StateMachineArn: aws.String(sm), NextToken: lv.NextToken})
	if err != nil || len(lv.StateMachineVersions) != 1 || *lv.StateMachineVersions[0].StateMachineVersionArn != v1 {
		t.Fatalf("list versions page 2: %v %+v", err, lv)
	}
	_, err = c.ListStateMachineVersions(ctx, &sfn.ListStateMachineVersionsInput{StateMachineArn: aws.String(sm), NextToken: aws.String("bogus")})
	wantAPIError[*types.InvalidToken](t, err)

	// Starting by version ARN runs that version and records it.
	st, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(v1)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(*st.ExecutionArn, "arn:aws:states:us-east-1:111111111111:execution:"+name+":") {
		t.Fatalf("execution arn %s", *st.ExecutionArn)
	}
	de := waitDone(t, c, *st.ExecutionArn)
	if de.StateMachineVersionArn == nil || *de.StateMachineVersionArn != v1 || *de.StateMachineArn != sm || *de.Output != `{"r":{"ok":true}}` {
		t.Fatalf("describe execution by version: %+v", de)
	}
	h, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: st.ExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	if sd := h.Events[0].ExecutionStartedEventDetails; sd == nil || sd.StateMachineVersionArn == nil || *sd.StateMachineVersionArn != v1 {
		t.Fatalf("ExecutionStarted: %+v", h.Events[0])
	}

	// Aliases: validation and conflicts.
	_, err = c.CreateStateMachineAlias(ctx, &sfn.CreateStateMachineAliasInput{Name: aws.String("prod"),
		RoutingConfiguration: []types.RoutingConfigurationListItem{{StateMachineVersionArn: aws.String(v1), Weight: 70}, {StateMachineVersionArn: aws.String(v2), Weight: 29}}})
	wantAPIError[*types.ValidationException](t, err)
	if !strings.Contains(err.Error(), "Sum of routing configuration weights must equal 100. Received: [70, 29]") {
		t.Fatalf("weights message: %v", err)
	}
	var ve *types.ValidationException
	if errors.As(err, &ve) && ve.Reason != types.ValidationExceptionReasonInvalidRoutingConfiguration {
		t.Fatalf("reason %q", ve.Reason)
	}
	_, err = c.CreateStateMachineAlias(ctx, &sfn.CreateStateMachineAliasInput{Name: aws.String("prod"),
		RoutingConfiguration: []types.RoutingConfigurationListItem{{StateMachineVersionArn: aws.String(sm), Weight: 100}}})
	wantAPIError[*types.ValidationException](t, err)
	_, err = c.CreateStateMachineAlias(ctx, &sfn.CreateStateMachineAliasInput{Name: aws.String("123"),
		RoutingConfiguration: []types.RoutingConfigurationListItem{{StateMachineVersionArn: aws.String(v1), Weight: 100}}})
	wantAPIError[*types.ValidationException](t, err)
	_, err = c.CreateStateMachineAlias(ctx, &sfn.CreateStateMachineAliasInput{Name: aws.String("prod"),
		RoutingConfiguration: []types.RoutingConfigurationListItem{{StateMachineVersionArn: aws.String(sm + ":99"), Weight: 100}}})
	wantAPIError[*types.ResourceNotFound](t, err)

	ca, err := c.CreateStateMachineAlias(ctx, &sfn.CreateStateMachineAliasInput{Name: aws.String("prod"), Description: aws.String("production"),
		RoutingConfiguration: []types.RoutingConfigurationListItem{{StateMachineVersionArn: aws.String(v1), Weight: 100}}})
	if err != nil || *ca.StateMachineAliasArn != sm+":prod" {
		t.Fatalf("create alias: %v %+v", err, ca)
	}
	alias := *ca.StateMachineAliasArn
	// Idempotent, then conflicting.
	if _, err := c.CreateStateMachineAlias(ctx, &sfn.CreateStateMachineAliasInput{Name: aws.String("prod"), Description: aws.String("production"),
		RoutingConfiguration: []types.RoutingConfigurationListItem{{StateMachineVersionArn: aws.String(v1), Weight: 100}}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateStateMachineAlias(ctx, &sfn.CreateStateMachineAliasInput{Name: aws.String("prod"),
		RoutingConfiguration: []types.RoutingConfigurationListItem{{StateMachineVersionArn: aws.String(v2), Weight: 100}}})
	wantAPIError[*types.ConflictException](t, err)

	da, err := c.DescribeStateMachineAlias(ctx, &sfn.DescribeStateMachineAliasInput{StateMachineAliasArn: aws.String(alias)})
	if err != nil || *da.Name != "prod" || *da.Description != "production" || len(da.RoutingConfiguration) != 1 || da.UpdateDate != nil {
		t.Fatalf("describe alias: %v %+v", err, da)
	}
	_, err = c.DescribeStateMachineAlias(ctx, &sfn.DescribeStateMachineAliasInput{StateMachineAliasArn: aws.String(sm + ":nope")})
	wantAPIError[*types.ResourceNotFound](t, err)

	// A version referenced by an alias cannot be deleted.
	_, err = c.DeleteStateMachineVersion(ctx, &sfn.DeleteStateMachineVersionInput{StateMachineVersionArn: aws.String(v1)})
	wantAPIError[*types.ConflictException](t, err)

	// Start through the alias: both ARNs recorded.
	st, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(alias)})
	if err != nil {
		t.Fatal(err)
	}
	de = waitDone(t, c, *st.ExecutionArn)
	if de.StateMachineAliasArn == nil || *de.StateMachineAliasArn != alias || *de.StateMachineVersionArn != v1 {
		t.Fatalf("describe execution by alias: %+v", de)
	}
	le, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(alias)})
	if err != nil || len(le.Executions) != 1 || *le.Executions[0].ExecutionArn != *st.ExecutionArn {
		t.Fatalf("list executions by alias: %v %+v", err, le)
	}
	le, err = c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(v1)})
	if err != nil || len(le.Executions) != 2 {
		t.Fatalf("list executions by version: %v %+v", err, le)
	}

	// Routing by weight: 50/50 reaches both versions.
	_, err = c.UpdateStateMachineAlias(ctx, &sfn.UpdateStateMachineAliasInput{StateMachineAliasArn: aws.String(alias)})
	wantAPIError[*types.ValidationException](t, err)
	ua, err := c.UpdateStateMachineAlias(ctx, &sfn.UpdateStateMachineAliasInput{StateMachineAliasArn: aws.String(alias),
		RoutingConfiguration: []types.RoutingConfigurationListItem{{StateMachineVersionArn: aws.String(v1), Weight: 50}, {StateMachineVersionArn: aws.String(v2), Weight: 50}}})
	if err != nil || ua.UpdateDate == nil {
		t.Fatalf("update alias: %v %+v", err, ua)
	}
	seen := map[string]int{}
	for i := 0; i < 40; i++ {
		st, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(alias)})
		if err != nil {
			t.Fatal(err)
		}
		de := waitDone(t, c, *st.ExecutionArn)
		seen[*de.StateMachineVersionArn]++
	}
	if seen[v1] == 0 || seen[v2] == 0 {
		t.Fatalf("50/50 routing reached %v", seen)
	}

	la, err := c.ListStateMachineAliases(ctx, &sfn.ListStateMachineAliasesInput{StateMachineArn: aws.String(sm)})
	if err != nil || len(la.StateMachineAliases) != 1 || *la.StateMachineAliases[0].StateMachineAliasArn != alias {
		t.Fatalf("list aliases: %v %+v", err, la)
	}
	la, err = c.ListStateMachineAliases(ctx, &sfn.ListStateMachineAliasesInput{StateMachineArn: aws.String(v2)})
	if err != nil || len(la.StateMachineAliases) != 1 {
		t.Fatalf("list aliases of v2: %v %+v", err, la)
	}
	_, err = c.ListStateMachineAliases(ctx, &sfn.ListStateMachineAliasesInput{StateMachineArn: aws.String(machineArn + "absent")})
	wantAPIError[*types.StateMachineDoesNotExist](t, err)

	if _, err := c.DeleteStateMachineAlias(ctx, &sfn.DeleteStateMachineAliasInput{StateMachineAliasArn: aws.String(alias)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteStateMachineAlias(ctx, &sfn.DeleteStateMachineAliasInput{StateMachineAliasArn: aws.String(alias)})
	wantAPIError[*types.ResourceNotFound](t, err)
	_, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(alias)})
	wantAPIError[*types.StateMachineDoesNotExist](t, err)

	if _, err := c.DeleteStateMachineVersion(ctx, &sfn.DeleteStateMachineVersionInput{StateMachineVersionArn: aws.String(v1)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(v1)})
	wantAPIError[*types.StateMachineDoesNotExist](t, err)
	_, err = c.DeleteStateMachineVersion(ctx, &sfn.DeleteStateMachineVersionInput{StateMachineVersionArn: aws.String("nope")})
	wantAPIError[*types.InvalidArn](t, err)
	// Version numbers are never reused.
	if _, err := c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(sm), Definition: aws.String(passDef)}); err != nil {
		t.Fatal(err)
	}
	p, err = c.PublishStateMachineVersion(ctx, &sfn.PublishStateMachineVersionInput{StateMachineArn: aws.String(sm), Description: aws.String("three")})
	if err != nil || *p.StateMachineVersionArn != sm+":3" {
		t.Fatalf("publish after delete: %v %+v", err, p)
	}

	// Deleting the machine deletes its versions and aliases.
	if _, err := c.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: aws.String(sm)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(v2)})
	wantAPIError[*types.StateMachineDoesNotExist](t, err)
}

func TestTags(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	name := unique("tagged")
	cr, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String(name), Definition: aws.String(passDef), RoleArn: aws.String(role),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("core")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	sm := *cr.StateMachineArn
	tags := func() map[string]string {
		t.Helper()
		out, err := c.ListTagsForResource(ctx, &sfn.ListTagsForResourceInput{ResourceArn: aws.String(sm)})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, tg := range out.Tags {
			m[*tg.Key] = *tg.Value
		}
		return m
	}
	if got := tags(); len(got) != 1 || got["team"] != "core" {
		t.Fatalf("creation tags %v", got)
	}
	if _, err := c.TagResource(ctx, &sfn.TagResourceInput{ResourceArn: aws.String(sm),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("edge")}, {Key: aws.String("env"), Value: aws.String("dev")}}}); err != nil {
		t.Fatal(err)
	}
	if got := tags(); len(got) != 2 || got["team"] != "edge" || got["env"] != "dev" {
		t.Fatalf("after tag %v", got)
	}
	if _, err := c.UntagResource(ctx, &sfn.UntagResourceInput{ResourceArn: aws.String(sm), TagKeys: []string{"team", "absent"}}); err != nil {
		t.Fatal(err)
	}
	if got := tags(); len(got) != 1 || got["env"] != "dev" {
		t.Fatalf("after untag %v", got)
	}
	many := make([]types.Tag, 50)
	for i := range many {
		many[i] = types.Tag{Key: aws.String("k" + string(rune('A'+i%26)) + string(rune('a'+i/26))), Value: aws.String("v")}
	}
	_, err = c.TagResource(ctx, &sfn.TagResourceInput{ResourceArn: aws.String(sm), Tags: many})
	wantAPIError[*types.TooManyTags](t, err)
	_, err = c.TagResource(ctx, &sfn.TagResourceInput{ResourceArn: aws.String(sm), Tags: []types.Tag{{Key: aws.String("bad!"), Value: aws.String("v")}}})
	wantCode(t, err, "ValidationException")
	_, err = c.ListTagsForResource(ctx, &sfn.ListTagsForResourceInput{ResourceArn: aws.String(sm + ":1")})
	wantAPIError[*types.ResourceNotFound](t, err)
	_, err = c.TagResource(ctx, &sfn.TagResourceInput{ResourceArn: aws.String(machineArn + "absent"), Tags: []types.Tag{}})
	wantAPIError[*types.ResourceNotFound](t, err)
	_, err = c.UntagResource(ctx, &sfn.UntagResourceInput{ResourceArn: aws.String("arn:nope"), TagKeys: []string{"a"}})
	wantAPIError[*types.InvalidArn](t, err)
	// A re-created machine starts without the old tags.
	if _, err := c.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: aws.String(sm)}); err != nil {
		t.Fatal(err)
	}
	createMachine(t, c, name, passDef, "")
	if got := tags(); len(got) != 0 {
		t.Fatalf("re-created machine tags %v", got)
	}
}

const distributedDef = `{"StartAt":"M","States":{"M":{"Type":"Map","Label":"lbl","MaxConcurrency":5,"ToleratedFailureCount":0,
"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},
"End":true}}}`

func TestMapRuns(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	name := unique("distributed")
	sm := createMachine(t, c, name, distributedDef, "")
	st, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Input: aws.String(`[1,2,3]`)})
	if err != nil {
		t.Fatal(err)
	}
	if d := waitDone(t, c, *st.ExecutionArn); d.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("execution: %+v", d)
	}
	lr, err := c.ListMapRuns(ctx, &sfn.ListMapRunsInput{ExecutionArn: st.ExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	// The execution is closed: its Map Run is recorded, and ended.
	if len(lr.MapRuns) != 1 {
		t.Fatalf("%d Map Runs listed for the closed execution, want 1", len(lr.MapRuns))
	}
	run := lr.MapRuns[0]
	if *run.StateMachineArn != sm+"/lbl" || !strings.HasPrefix(*run.MapRunArn, "arn:aws:states:us-east-1:111111111111:mapRun:"+name+"/lbl:") ||
		*run.ExecutionArn != *st.ExecutionArn || run.StopDate == nil {
		t.Fatalf("map run item: machine %s, run %s, execution %s, stop date %v",
			aws.ToString(run.StateMachineArn), aws.ToString(run.MapRunArn), aws.ToString(run.ExecutionArn), run.StopDate)
	}
	d, err := c.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: run.MapRunArn})
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != types.MapRunStatusSucceeded || d.MaxConcurrency != 5 || d.ItemCounts.Total != 3 || d.ItemCounts.Succeeded != 3 ||
		d.ExecutionCounts.ResultsWritten != 3 || d.ToleratedFailurePercentage != 0 {
		t.Fatalf("describe map run: %+v %+v", d, d.ItemCounts)
	}
	_, err = c.UpdateMapRun(ctx, &sfn.UpdateMapRunInput{MapRunArn: run.MapRunArn, MaxConcurrency: aws.Int32(2)})
	wantAPIError[*types.ValidationException](t, err)
	var ve *types.ValidationException
	if errors.As(err, &ve) && ve.Reason != types.ValidationExceptionReasonCannotUpdateCompletedMapRun {
		t.Fatalf("reason %q", ve.Reason)
	}
	missing := "arn:aws:states:us-east-1:111111111111:mapRun:" + name + "/lbl:00000000-0000-0000-0000-000000000000"
	_, err = c.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: aws.String(missing)})
	wantAPIError[*types.ResourceNotFound](t, err)
	_, err = c.ListExecutions(ctx, &sfn.ListExecutionsInput{MapRunArn: aws.String(missing)})
	wantAPIError[*types.ResourceNotFound](t, err)
	checkChildren(t, c, sm, *run.MapRunArn, *st.ExecutionArn)
	_, err = c.UpdateMapRun(ctx, &sfn.UpdateMapRunInput{MapRunArn: aws.String(missing), MaxConcurrency: aws.Int32(1)})
	wantAPIError[*types.ResourceNotFound](t, err)
	_, err = c.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: aws.String(sm)})
	wantAPIError[*types.InvalidArn](t, err)
	_, err = c.ListMapRuns(ctx, &sfn.ListMapRunsInput{ExecutionArn: aws.String("arn:aws:states:us-east-1:111111111111:execution:" + name + ":none")})
	wantAPIError[*types.ExecutionDoesNotExist](t, err)
}

// checkChildren: the Map Run's three STANDARD children are executions of
// their own, named as AWS names them, listed by mapRunArn (also page by
// page and by status), described with their Map Run, with histories of
// their own; the parent's machine lists only the parent.
func checkChildren(t *testing.T, c *sfn.Client, sm, runArn, parent string) {
	t.Helper()
	ctx := context.Background()
	var kids []types.ExecutionListItem
	var token *string
	for {
		l, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{MapRunArn: aws.String(runArn), MaxResults: 2, NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		kids = append(kids, l.Executions...)
		if token = l.NextToken; token == nil {
			break
		}
	}
	if len(kids) != 3 {
		t.Fatalf("%d children listed, want 3", len(kids))
	}
	runID := runArn[strings.LastIndexByte(runArn, ':')+1:]
	prefix := strings.Replace(strings.TrimSuffix(runArn, runID), ":mapRun:", ":execution:", 1)
	outputs := map[string]bool{}
	for _, k := range kids {
		if !strings.HasPrefix(*k.ExecutionArn, prefix) || *k.ExecutionArn != prefix+*k.Name || len(*k.Name) != 36 ||
			*k.StateMachineArn != sm+"/lbl" || aws.ToString(k.MapRunArn) != runArn || k.Status != types.ExecutionStatusSucceeded {
			t.Fatalf("child %s (%s) of machine %s, run %s: %s", aws.ToString(k.ExecutionArn), aws.ToString(k.Name),
				aws.ToString(k.StateMachineArn), aws.ToString(k.MapRunArn), k.Status)
		}
		d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: k.ExecutionArn})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(d.MapRunArn) != runArn || *d.StateMachineArn != sm+"/lbl" || aws.ToString(d.Output) != aws.ToString(d.Input) {
			t.Fatalf("describe child: run %s, machine %s, input %s, output %s", aws.ToString(d.MapRunArn), *d.StateMachineArn,
				aws.ToString(d.Input), aws.ToString(d.Output))
		}
		outputs[aws.ToString(d.Output)] = true
		m, err := c.DescribeStateMachineForExecution(ctx, &sfn.DescribeStateMachineForExecutionInput{ExecutionArn: k.ExecutionArn})
		if err != nil {
			t.Fatal(err)
		}
		if *m.StateMachineArn != sm+"/lbl" || aws.ToString(m.MapRunArn) != runArn || aws.ToString(m.Label) != "lbl" ||
			!strings.Contains(*m.Definition, `"StartAt":"P"`) || strings.Contains(*m.Definition, `"Type":"Map"`) {
			t.Fatalf("the child's state machine: %s, run %s, label %s, definition %s", *m.StateMachineArn, aws.ToString(m.MapRunArn),
				aws.ToString(m.Label), *m.Definition)
		}
		h, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: k.ExecutionArn})
		if err != nil {
			t.Fatal(err)
		}
		var types_ []string
		for _, e := range h.Events {
			types_ = append(types_, string(e.Type))
		}
		if got := strings.Join(types_, ","); got != "ExecutionStarted,PassStateEntered,PassStateExited,ExecutionSucceeded" {
			t.Fatalf("child history %s", got)
		}
	}
	if len(outputs) != 3 || !outputs["1"] || !outputs["3"] {
		t.Fatalf("child outputs %v", outputs)
	}
	l, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{MapRunArn: aws.String(runArn), StatusFilter: types.ExecutionStatusFailed})
	if err != nil || len(l.Executions) != 0 {
		t.Fatalf("failed children %v, %v", l, err)
	}
	l, err = c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm)})
	if err != nil || len(l.Executions) != 1 || *l.Executions[0].ExecutionArn != parent {
		t.Fatalf("the machine's executions %v, %v", l, err)
	}
}

// wantCode checks the error code of an error the operation does not model.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("error %v, want code %s", err, code)
	}
}

func TestTestState(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	run := func(in *sfn.TestStateInput) *sfn.TestStateOutput {
		t.Helper()
		out, err := c.TestState(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	// Pass at DEBUG: every step of the data flow.
	out := run(&sfn.TestStateInput{
		Definition:      aws.String(`{"Type":"Pass","InputPath":"$.in","Parameters":{"v.$":"$.x"},"ResultPath":"$.r","Next":"After"}`),
		Input:           aws.String(`{"in":{"x":7}}`),
		InspectionLevel: types.InspectionLevelDebug,
	})
	d := out.InspectionData
	if out.Status != types.TestExecutionStatusSucceeded || *out.NextState != "After" || *out.Output != `{"in":{"x":7},"r":{"v":7}}` ||
		d == nil || *d.Input != `{"in":{"x":7}}` || *d.AfterInputPath != `{"x":7}` || *d.AfterParameters != `{"v":7}` ||
		*d.Result != `{"v":7}` || *d.AfterResultPath != `{"in":{"x":7},"r":{"v":7}}` {
		t.Fatalf("pass: %+v %+v", out, d)
	}
	// INFO: no inspection data; End: no next state.
	out = run(&sfn.TestStateInput{Definition: aws.String(`{"Type":"Pass","Result":1,"End":true}`)})
	if out.InspectionData != nil || out.NextState != nil || *out.Output != "1" {
		t.Fatalf("info: %+v", out)
	}
	// Variables and Assign.
	out = run(&sfn.TestStateInput{
		Definition: aws.String(`{"Type":"Pass","Parameters":{"a.$":"$a"},"Assign":{"b.$":"$.a"},"End":true}`),
		Variables:  aws.String(`{"a":"x"}`), InspectionLevel: types.InspectionLevelDebug,
	})
	if *out.Output != `{"a":"x"}` || out.InspectionData.Variables == nil || *out.InspectionData.Variables != `{"a":"x","b":"x"}` {
		t.Fatalf("variables: %+v %+v", out, out.InspectionData)
	}
	// A state of a whole machine, by name.
	out = run(&sfn.TestStateInput{
		Definition: aws.String(`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"C"},"C":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThan":1,"Next":"Big"}],"Default":"A"},"Big":{"Type":"Succeed"}}}`),
		StateName:  aws.String("C"), Input: aws.String(`{"n":5}`),
	})
	if *out.NextState != "Big" || out.Status != types.TestExecutionStatusSucceeded {
		t.Fatalf("choice: %+v", out)
	}
	// Fail.
	out = run(&sfn.TestStateInput{Definition: aws.String(`{"Type":"Fail","Error":"E","Cause":"c"}`)})
	if out.Status != types.TestExecutionStatusFailed || *out.Error != "E" || *out.Cause != "c" || out.Output != nil {
		t.Fatalf("fail: %+v", out)
	}
	// A runtime error of the data flow.
	out = run(&sfn.TestStateInput{Definition: aws.String(`{"Type":"Pass","InputPath":"$.missing","End":true}`)})
	if out.Status != types.TestExecutionStatusFailed || *out.Error != "States.Runtime" {
		t.Fatalf("runtime error: %+v", out)
	}
	// Task with a mocked result.
	task := `{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","ResultSelector":{"p.$":"$.Payload"},"ResultPath":"$.out",
"Retry":[{"ErrorEquals":["Boom"],"MaxAttempts":2,"IntervalSeconds":3,"BackoffRate":2}],
"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.err","Next":"Handle"}],"Next":"Done"}`
	out = run(&sfn.TestStateInput{Definition: aws.String(task), Input: aws.String(`{}`), InspectionLevel: types.InspectionLevelDebug,
		Mock: &types.MockInput{Result: aws.String(`{"Payload":{"ok":1},"StatusCode":200}`)}})
	if out.Status != types.TestExecutionStatusSucceeded || *out.Output != `{"out":{"p":{"ok":1}}}` || *out.NextState != "Done" ||
		*out.InspectionData.AfterResultSelector != `{"p":{"ok":1}}` {
		t.Fatalf("mocked task: %+v", out)
	}
	// A mocked error: RETRIABLE, then CAUGHT_ERROR once the retries are spent.
	out = run(&sfn.TestStateInput{Definition: aws.String(task), InspectionLevel: types.InspectionLevelDebug,
		Mock:               &types.MockInput{ErrorOutput: &types.MockErrorOutput{Error: aws.String("Boom"), Cause: aws.String("bad")}},
		StateConfiguration: &types.TestStateConfiguration{RetrierRetryCount: aws.Int32(1)}})
	if out.Status != types.TestExecutionStatusRetriable || *out.Error != "Boom" || out.InspectionData.ErrorDetails == nil ||
		*out.InspectionData.ErrorDetails.RetryIndex != 0 || *out.InspectionData.ErrorDetails.RetryBackoffIntervalSeconds != 6 {
		t.Fatalf("retriable: %+v %+v", out, out.InspectionData.ErrorDetails)
	}
	out = run(&sfn.TestStateInput{Definition: aws.String(task), InspectionLevel: types.InspectionLevelDebug,
		Mock:               &types.MockInput{ErrorOutput: &types.MockErrorOutput{Error: aws.String("Boom"), Cause: aws.String("bad")}},
		StateConfiguration: &types.TestStateConfiguration{RetrierRetryCount: aws.Int32(2)}})
	if out.Status != types.TestExecutionStatusCaughtError || *out.NextState != "Handle" || *out.Output != `{"err":{"Error":"Boom","Cause":"bad"}}` ||
		*out.InspectionData.ErrorDetails.CatchIndex != 0 {
		t.Fatalf("caught: %+v", out)
	}
	// Map and Parallel with mocks.
	out = run(&sfn.TestStateInput{InspectionLevel: types.InspectionLevelDebug, Input: aws.String(`{"items":[1,2]}`),
		Definition: aws.String(`{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":3,"ItemSelector":{"v.$":"$$.Map.Item.Value"},"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}`),
		Mock:       &types.MockInput{Result: aws.String(`[10,20]`)}})
	if out.Status != types.TestExecutionStatusSucceeded || *out.Output != `[10,20]` || *out.InspectionData.AfterItemsPath != `[1,2]` ||
		*out.InspectionData.AfterItemSelector != `[{"v":1},{"v":2}]` || *out.InspectionData.MaxConcurrency != 3 {
		t.Fatalf("map: %+v %+v", out, out.InspectionData)
	}
	parallel := `{"Type":"Parallel","Branches":[{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}},{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}],"End":true}`
	out = run(&sfn.TestStateInput{Definition: aws.String(parallel), Mock: &types.MockInput{Result: aws.String(`[1,2]`)}})
	if *out.Output != `[1,2]` {
		t.Fatalf("parallel: %+v", out)
	}

	// TRACE on an HTTP Task: the request and the response.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"got":"`+r.URL.Query().Get("q")+`"}`)
	}))
	defer srv.Close()
	httpTask := `{"Type":"Task","Resource":"arn:aws:states:::http:invoke","Parameters":{"ApiEndpoint":"` + srv.URL + `/x","Method":"POST",
"QueryParameters":{"q":"hi"},"RequestBody":{"a":1},"Authentication":{"ConnectionArn":"arn:aws:events:us-east-1:111111111111:connection/c/1"}},"End":true}`
	out = run(&sfn.TestStateInput{Definition: aws.String(httpTask), RoleArn: aws.String(role), InspectionLevel: types.InspectionLevelTrace})
	if out.Status != types.TestExecutionStatusSucceeded || out.InspectionData.Request == nil || out.InspectionData.Response == nil {
		t.Fatalf("http trace: %+v %+v", out, out.InspectionData)
	}
	rq, rs := out.InspectionData.Request, out.InspectionData.Response
	if *rq.Method != "POST" || *rq.Url != srv.URL+"/x?q=hi" || *rq.Body != `{"a":1}` || *rs.StatusCode != "200" || *rs.Body != `{"got":"hi"}` {
		t.Fatalf("http trace: %+v %+v", rq, rs)
	}

	// Errors.
	_, err := c.TestState(ctx, &sfn.TestStateInput{Definition: aws.String(parallel), Mock: &types.MockInput{Result: aws.String(`[1]`)}})
	wantAPIError[*types.ValidationException](t, err)
	_, err = c.TestState(ctx, &sfn.TestStateInput{Definition: aws.String(parallel)})
	wantAPIError[*types.InvalidDefinition](t, err)
	_, err = c.TestState(ctx, &sfn.TestStateInput{Definition: aws.String(`{"Type":"Pass","End":true}`), Mock: &types.MockInput{Result: aws.String(`1`)}})
	wantAPIError[*types.ValidationException](t, err)
	_, err = c.TestState(ctx, &sfn.TestStateInput{Definition: aws.String(`{"Type":"Pass","End":true}`), InspectionLevel: types.InspectionLevelTrace})
	wantAPIError[*types.ValidationException](t, err)
	_, err = c.TestState(ctx, &sfn.TestStateInput{Definition: aws.String(task)})
	wantAPIError[*types.ValidationException](t, err)
	_, err = c.TestState(ctx, &sfn.TestStateInput{Definition: aws.String(task), Mock: &types.MockInput{Result: aws.String(`{`)}})
	wantAPIError[*types.ValidationException](t, err)
	_, err = c.TestState(ctx, &sfn.TestStateInput{Definition: aws.String(`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`), StateName: aws.String("Z")})
	wantAPIError[*types.ValidationException](t, err)
	_, err = c.TestState(ctx, &sfn.TestStateInput{Definition: aws.String(`{"Type":"Pass","Next":`)})
	wantAPIError[*types.InvalidDefinition](t, err)
	_, err = c.TestState(ctx, &sfn.TestStateInput{Definition: aws.String(`{"Type":"Pass","End":true}`), Input: aws.String(`{`)})
	wantAPIError[*types.InvalidExecutionInput](t, err)
	_, err = c.TestState(ctx, &sfn.TestStateInput{Definition: aws.String(task), RoleArn: aws.String("nope"), Mock: &types.MockInput{Result: aws.String(`1`)}})
	wantAPIError[*types.InvalidArn](t, err)
}

var (
	memOnce     sync.Once
	memEndpoint string
	memErr      error
)

// memoryClient is a client of a second server that keeps its state in
// the memory store (the main server uses the embedded one), started once
// for the package.
func memoryClient(t *testing.T) *sfn.Client {
	t.Helper()
	memOnce.Do(func() { memEndpoint, memErr = startMemoryServer() })
	if memErr != nil {
		t.Fatal(memErr)
	}
	return clientOf(memEndpoint)
}

func startMemoryServer() (string, error) {
	dir, err := os.MkdirTemp("", "stepwell-e2e-mem-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "stepwell")
	build := exec.Command("go", "build", "-o", bin, "./cmd/stepwell")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build stepwell: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "serve", "--store", "memory", "--addr", "127.0.0.1:0", "--time-scale", "0.01", "--account-id", "111111111111")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", err
	}
	// Stopped, and its binary removed, when the package's tests end.
	atExit = append(atExit, func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = os.RemoveAll(dir)
	})
	re := regexp.MustCompile(`listening on (http://\S+)`)
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			go func() {
				for sc.Scan() {
				}
			}()
			return m[1], nil
		}
	}
	return "", errors.New("the memory-store server exited before listening")
}

func TestRedriveExecution(t *testing.T) {
	ctx := context.Background()
	// Errors that do not depend on the store.
	main := client(t)
	_, err := main.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: aws.String("arn:aws:states:us-east-1:111111111111:execution:none:none")})
	wantAPIError[*types.ExecutionDoesNotExist](t, err)
	_, err = main.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: aws.String("not-an-arn")})
	wantAPIError[*types.InvalidArn](t, err)
	ok := createMachine(t, main, unique("redrive-ok"), passDef, "")
	st, err := main.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(ok)})
	if err != nil {
		t.Fatal(err)
	}
	waitDone(t, main, *st.ExecutionArn)
	_, err = main.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: st.ExecutionArn})
	wantAPIError[*types.ExecutionNotRedrivable](t, err)

	// A failed activity task, redriven: the Pass before it is not run
	// again; on the embedded store and on the memory store.
	t.Run("embedded", func(t *testing.T) { testRedrive(t, main) })
	t.Run("memory", func(t *testing.T) { testRedrive(t, memoryClient(t)) })
}

func testRedrive(t *testing.T, c *sfn.Client) {
	ctx := context.Background()
	act, err := c.CreateActivity(ctx, &sfn.CreateActivityInput{Name: aws.String(unique("redrive-act"))})
	if err != nil {
		t.Fatal(err)
	}
	def := `{"StartAt":"First","States":{"First":{"Type":"Pass","Result":"done","ResultPath":"$.first","Next":"Work"},
"Work":{"Type":"Task","Resource":"` + *act.ActivityArn + `","ResultPath":"$.work","End":true}}}`
	sm := createMachine(t, c, unique("redrive"), def, "")
	st, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Input: aws.String(`{"n":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	task, err := c.GetActivityTask(ctx, &sfn.GetActivityTaskInput{ActivityArn: act.ActivityArn})
	if err != nil || task.TaskToken == nil {
		t.Fatalf("get activity task: %v %+v", err, task)
	}
	if _, err := c.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: task.TaskToken, Error: aws.String("Oops")}); err != nil {
		t.Fatal(err)
	}
	d := waitDone(t, c, *st.ExecutionArn)
	if d.Status != types.ExecutionStatusFailed || d.RedriveStatus != types.ExecutionRedriveStatusRedrivable || *d.RedriveCount != 0 {
		t.Fatalf("failed execution: %+v", d)
	}
	r1, err := c.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: st.ExecutionArn, ClientToken: aws.String("token-1")})
	if err != nil {
		t.Fatal(err)
	}
	// The same client token answers the same redrive.
	r2, err := c.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: st.ExecutionArn, ClientToken: aws.String("token-1")})
	if err != nil || !r2.RedriveDate.Equal(*r1.RedriveDate) {
		t.Fatalf("idempotent redrive: %v %+v %+v", err, r1, r2)
	}
	task, err = c.GetActivityTask(ctx, &sfn.GetActivityTaskInput{ActivityArn: act.ActivityArn})
	if err != nil || task.TaskToken == nil || *task.Input != `{"n":1,"first":"done"}` {
		t.Fatalf("get activity task after redrive: %v %+v", err, task)
	}
	if _, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: aws.String(`"ok"`)}); err != nil {
		t.Fatal(err)
	}
	d = waitDone(t, c, *st.ExecutionArn)
	if d.Status != types.ExecutionStatusSucceeded || *d.Output != `{"n":1,"first":"done","work":"ok"}` || *d.RedriveCount != 1 || d.RedriveDate == nil {
		t.Fatalf("redriven execution: %+v", d)
	}
	h, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: st.ExecutionArn, MaxResults: 1000})
	if err != nil {
		t.Fatal(err)
	}
	count := map[types.HistoryEventType]int{}
	for i, e := range h.Events {
		count[e.Type]++
		if e.Id != int64(i+1) {
			t.Fatalf("event %d has id %d", i, e.Id)
		}
		if e.Type == types.HistoryEventTypeExecutionRedriven && *e.ExecutionRedrivenEventDetails.RedriveCount != 1 {
			t.Fatalf("ExecutionRedriven: %+v", e.ExecutionRedrivenEventDetails)
		}
	}
	if count[types.HistoryEventTypeExecutionRedriven] != 1 || count[types.HistoryEventTypePassStateEntered] != 1 ||
		count[types.HistoryEventTypeActivityScheduled] != 2 || count[types.HistoryEventTypeExecutionFailed] != 1 ||
		count[types.HistoryEventTypeExecutionSucceeded] != 1 {
		t.Fatalf("history after redrive: %v", count)
	}
	le, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm), RedriveFilter: types.ExecutionRedriveFilterRedriven})
	if err != nil || len(le.Executions) != 1 || *le.Executions[0].RedriveCount != 1 {
		t.Fatalf("list redriven: %v %+v", err, le)
	}
	_, err = c.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: st.ExecutionArn})
	wantAPIError[*types.ExecutionNotRedrivable](t, err)
}

// TestVariableReferences: DescribeStateMachine, DescribeStateMachine of a
// version and DescribeStateMachineForExecution answer variableReferences,
// the variables each state reads (not with includedData METADATA_ONLY), as
// the AWS SDK reads them.
func TestVariableReferences(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	def := `{"QueryLanguage":"JSONata","StartAt":"A","States":{
"A":{"Type":"Pass","Assign":{"total":"{% $sum($states.input.items) %}","limit":10},"Next":"B"},
"B":{"Type":"Choice","Choices":[{"Condition":"{% $total > $limit %}","Next":"Big"}],"Default":"Small"},
"Big":{"Type":"Pass","Output":{"t":"{% $total %}"},"End":true},
"Small":{"Type":"Succeed"}}}`
	want := map[string][]string{"B": {"total", "limit"}, "Big": {"total"}}
	cr, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String(unique("varrefs")), Definition: aws.String(def), RoleArn: aws.String(role), Publish: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, arn := range []string{*cr.StateMachineArn, *cr.StateMachineVersionArn} {
		d, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(d.VariableReferences, want) {
			t.Errorf("DescribeStateMachine(%s).VariableReferences = %v, want %v", arn, d.VariableReferences, want)
		}
		m, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn), IncludedData: types.IncludedDataMetadataOnly})
		if err != nil || m.VariableReferences != nil {
			t.Errorf("METADATA_ONLY: %v %v", err, m.VariableReferences)
		}
	}
	x, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: cr.StateMachineArn, Input: aws.String(`{"items":[4,8]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if d := waitDone(t, c, *x.ExecutionArn); d.Status != types.ExecutionStatusSucceeded || aws.ToString(d.Output) != `{"t":12}` {
		t.Fatalf("execution: %s %s", d.Status, aws.ToString(d.Output))
	}
	f, err := c.DescribeStateMachineForExecution(ctx, &sfn.DescribeStateMachineForExecutionInput{ExecutionArn: x.ExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.VariableReferences, want) {
		t.Errorf("DescribeStateMachineForExecution.VariableReferences = %v, want %v", f.VariableReferences, want)
	}
	// A machine that reads no variable has none.
	d, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(createMachine(t, c, unique("novars"), passDef, types.StateMachineTypeStandard))})
	if err != nil || d.VariableReferences != nil {
		t.Errorf("no variables: %v %v", err, d.VariableReferences)
	}
}
