package memory

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stepwell/stepwell/history"
	"github.com/stepwell/stepwell/store"
)

const sm = "arn:aws:states:us-east-1:1:stateMachine:m"

func publish(t *testing.T, v *Versions, rev string) *store.Version {
	t.Helper()
	out, _, err := v.PublishVersion(context.Background(), &store.Version{StateMachineARN: sm, Revision: store.Revision{RevisionID: rev}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestVersions_NumberingAndIdempotence(t *testing.T) {
	ctx := context.Background()
	v := NewVersions()
	v1 := publish(t, v, "r1")
	if v1.Number != 1 || v1.ARN != sm+":1" {
		t.Fatalf("v1 %+v", v1)
	}
	again, created, err := v.PublishVersion(ctx, &store.Version{StateMachineARN: sm, Revision: store.Revision{RevisionID: "r1"}})
	if err != nil || created || again.ARN != v1.ARN {
		t.Fatalf("republish: %v %v %+v", err, created, again)
	}
	v2 := publish(t, v, "r2")
	if err := v.DeleteVersion(ctx, v2.ARN); err != nil {
		t.Fatal(err)
	}
	if v3 := publish(t, v, "r3"); v3.Number != 3 {
		t.Fatalf("numbers are never reused: %+v", v3)
	}
	if err := v.DeleteVersion(ctx, v2.ARN); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	// Newest first, in pages.
	items, next, err := v.ListVersions(ctx, sm, store.Page{Limit: 1})
	if err != nil || len(items) != 1 || items[0].Number != 3 || next == "" {
		t.Fatalf("page 1: %v %+v %q", err, items, next)
	}
	items, next, err = v.ListVersions(ctx, sm, store.Page{Limit: 1, Token: next})
	if err != nil || len(items) != 1 || items[0].Number != 1 || next != "" {
		t.Fatalf("page 2: %v %+v %q", err, items, next)
	}
	if _, _, err := v.ListVersions(ctx, sm, store.Page{Limit: 1, Token: "x.1"}); !errors.Is(err, store.ErrInvalidToken) {
		t.Fatalf("bad token: %v", err)
	}
	// Returned records are copies.
	got, _ := v.GetVersion(ctx, v1.ARN)
	got.Description = "changed"
	if again, _ := v.GetVersion(ctx, v1.ARN); again.Description != "" {
		t.Fatal("GetVersion returned the stored record")
	}
}

func TestVersions_Limit(t *testing.T) {
	v := NewVersions()
	for i := 0; i < store.MaxVersionsPerMachine; i++ {
		publish(t, v, "r"+time.Duration(i).String())
	}
	_, _, err := v.PublishVersion(context.Background(), &store.Version{StateMachineARN: sm, Revision: store.Revision{RevisionID: "last"}})
	if !errors.Is(err, store.ErrLimitExceeded) {
		t.Fatalf("version 1001: %v", err)
	}
}

func TestAliases(t *testing.T) {
	ctx := context.Background()
	v := NewVersions()
	v1, v2 := publish(t, v, "r1"), publish(t, v, "r2")
	a := &store.Alias{ARN: sm + ":prod", StateMachineARN: sm, Name: "prod", Routing: []store.Route{{VersionARN: v1.ARN, Weight: 100}}}
	if err := v.CreateAlias(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := v.CreateAlias(ctx, a); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("create twice: %v", err)
	}
	b := &store.Alias{ARN: sm + ":beta", StateMachineARN: sm, Name: "beta", Routing: []store.Route{{VersionARN: v2.ARN, Weight: 100}}}
	if err := v.CreateAlias(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := v.DeleteVersion(ctx, v1.ARN); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("delete a routed version: %v", err)
	}
	tests := []struct {
		name    string
		version string
		want    []string
	}{
		{"all, newest first", "", []string{b.ARN, a.ARN}},
		{"routing to v1", v1.ARN, []string{a.ARN}},
		{"routing to v2", v2.ARN, []string{b.ARN}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, _, err := v.ListAliases(ctx, sm, tt.version, store.Page{Limit: 10})
			if err != nil || len(items) != len(tt.want) {
				t.Fatalf("%v %+v", err, items)
			}
			for i, it := range items {
				if it.ARN != tt.want[i] {
					t.Fatalf("item %d is %s, want %s", i, it.ARN, tt.want[i])
				}
			}
		})
	}
	a.Routing = []store.Route{{VersionARN: v2.ARN, Weight: 100}}
	a.UpdateDate = time.Unix(5, 0)
	if err := v.UpdateAlias(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := v.DeleteVersion(ctx, v1.ARN); err != nil {
		t.Fatalf("delete an unrouted version: %v", err)
	}
	if err := v.DeleteAlias(ctx, a.ARN); err != nil {
		t.Fatal(err)
	}
	if _, err := v.GetAlias(ctx, a.ARN); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted alias: %v", err)
	}
	if err := v.DeleteMachineVersions(ctx, sm); err != nil {
		t.Fatal(err)
	}
	if _, err := v.GetVersion(ctx, v2.ARN); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("version after machine delete: %v", err)
	}
	if v1 := publish(t, v, "again"); v1.Number != 1 {
		t.Fatalf("a re-created machine starts at 1: %+v", v1)
	}
}

func TestTags(t *testing.T) {
	ctx := context.Background()
	v := NewVersions()
	const r = "arn:aws:states:us-east-1:1:activity:a"
	if _, ok, _ := v.Tags(ctx, r); ok {
		t.Fatal("tags of an untagged resource")
	}
	if err := v.SetTags(ctx, r, []store.Tag{{Key: "a", Value: "1"}}); err != nil {
		t.Fatal(err)
	}
	if err := v.TagResource(ctx, r, []store.Tag{{Key: "a", Value: "2"}, {Key: "b", Value: "3"}, {Key: "aws:x", Value: "4"}}, 2); err != nil {
		t.Fatal(err)
	}
	if err := v.TagResource(ctx, r, []store.Tag{{Key: "c", Value: "5"}}, 2); !errors.Is(err, store.ErrLimitExceeded) {
		t.Fatalf("third tag: %v", err)
	}
	if err := v.UntagResource(ctx, r, []string{"b", "zz"}); err != nil {
		t.Fatal(err)
	}
	tags, ok, _ := v.Tags(ctx, r)
	if !ok || len(tags) != 2 || tags[0] != (store.Tag{Key: "a", Value: "2"}) || tags[1] != (store.Tag{Key: "aws:x", Value: "4"}) {
		t.Fatalf("tags %v", tags)
	}
	if err := v.SetTags(ctx, r, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := v.Tags(ctx, r); ok {
		t.Fatal("dropped tags")
	}
}

func TestMapRunsAndMeta(t *testing.T) {
	ctx := context.Background()
	v := NewVersions()
	const x = "arn:aws:states:us-east-1:1:execution:m:e"
	for _, id := range []string{"1", "2", "3"} {
		if err := v.PutMapRun(ctx, &store.MapRun{ARN: "run" + id, ExecutionARN: x, Status: "RUNNING"}); err != nil {
			t.Fatal(err)
		}
	}
	items, next, err := v.ListMapRuns(ctx, x, store.Page{Limit: 2})
	if err != nil || len(items) != 2 || items[0].ARN != "run1" || next == "" {
		t.Fatalf("page 1: %v %+v", err, items)
	}
	items, next, _ = v.ListMapRuns(ctx, x, store.Page{Limit: 2, Token: next})
	if len(items) != 1 || items[0].ARN != "run3" || next != "" {
		t.Fatalf("page 2: %+v %q", items, next)
	}
	mc := int64(4)
	if err := v.UpdateMapRun(ctx, "run1", store.MapRunUpdate{MaxConcurrency: &mc}); err != nil {
		t.Fatal(err)
	}
	if r, _ := v.GetMapRun(ctx, "run1"); r.MaxConcurrency != 4 {
		t.Fatalf("updated run %+v", r)
	}
	if err := v.PutMapRun(ctx, &store.MapRun{ARN: "run1", ExecutionARN: x, Status: "SUCCEEDED"}); err != nil {
		t.Fatal(err)
	}
	if err := v.UpdateMapRun(ctx, "run1", store.MapRunUpdate{MaxConcurrency: &mc}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("update a finished run: %v", err)
	}
	if err := v.UpdateMapRun(ctx, "none", store.MapRunUpdate{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update a missing run: %v", err)
	}
	if _, ok, _ := v.GetExecutionMeta(ctx, x); ok {
		t.Fatal("meta of a plain execution")
	}
	m := store.ExecutionMeta{VersionARN: sm + ":1", RedriveCount: 2}
	if err := v.PutExecutionMeta(ctx, x, m); err != nil {
		t.Fatal(err)
	}
	if got, ok, _ := v.GetExecutionMeta(ctx, x); !ok || got.VersionARN != m.VersionARN || got.RedriveCount != 2 {
		t.Fatalf("meta %+v", got)
	}
}

func TestReopenExecution(t *testing.T) {
	ctx := context.Background()
	s := New(Options{})
	const x = "arn:aws:states:us-east-1:1:execution:m:e"
	if err := s.CreateExecution(ctx, &store.Execution{ARN: x, StateMachineARN: sm, Status: store.StatusRunning}, nil, nil); err != nil {
		t.Fatal(err)
	}
	ev := func(id int64, typ history.EventType) history.Event { return history.Event{ID: id, Type: typ} }
	if err := s.ReopenExecution(ctx, x, nil); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("reopen a running execution: %v", err)
	}
	errName := "E"
	if err := s.AppendHistory(ctx, x, []history.Event{ev(1, history.ExecutionStarted), ev(2, history.ExecutionFailed)},
		&store.End{Status: store.StatusFailed, StopDate: time.Unix(9, 0), Error: &errName}); err != nil {
		t.Fatal(err)
	}
	if err := s.ReopenExecution(ctx, x, []history.Event{ev(4, history.ExecutionRedriven)}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("reopen with a gap: %v", err)
	}
	if err := s.ReopenExecution(ctx, x, []history.Event{ev(3, history.ExecutionRedriven)}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.GetExecution(ctx, x)
	if got.Status != store.StatusRunning || !got.StopDate.IsZero() || got.Error != nil {
		t.Fatalf("reopened %+v", got)
	}
	if err := s.AppendHistory(ctx, x, []history.Event{ev(4, history.ExecutionSucceeded)}, &store.End{Status: store.StatusSucceeded}); err != nil {
		t.Fatal(err)
	}
	if err := s.ReopenExecution(ctx, "none", nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("reopen a missing execution: %v", err)
	}
}
