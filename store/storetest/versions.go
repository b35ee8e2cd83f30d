package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stepwell/stepwell/store"
)

// RunVersions runs the suite of store.Versions. newStore must return an
// empty store each call.
func RunVersions(t *testing.T, newStore func(t *testing.T) store.Versions) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Versions)
	}{
		{"Versions", testVersions},
		{"Aliases", testAliases},
		{"DeleteMachineVersions", testDeleteMachineVersions},
		{"Tags", testTags},
		{"MapRuns", testMapRuns},
		{"ExecutionMeta", testExecutionMeta},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

func is(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
}

func publish(t *testing.T, s store.Versions, sm, rev string) (*store.Version, bool) {
	t.Helper()
	v, created, err := s.PublishVersion(context.Background(), &store.Version{StateMachineARN: smARN + sm, Description: "d " + rev,
		CreationDate: t0, Revision: store.Revision{RevisionID: rev, Definition: `{"r":"` + rev + `"}`, RoleARN: "role"}})
	must(t, err)
	return v, created
}

func versionNumbers(t *testing.T, s store.Versions, sm string, limit int) []int64 {
	t.Helper()
	return allPages(t, limit, 20, func(p store.Page) ([]*store.Version, string, error) { return s.ListVersions(ctx(), smARN+sm, p) },
		func(v *store.Version) int64 { return v.Number })
}

func testVersions(t *testing.T, s store.Versions) {
	v1, created := publish(t, s, "m", "r1")
	if !created || v1.Number != 1 || v1.ARN != smARN+"m:1" || v1.Description != "d r1" || v1.Definition != `{"r":"r1"}` || !v1.CreationDate.Equal(t0) {
		t.Fatalf("first version %+v, created %v", v1, created)
	}
	again, created := publish(t, s, "m", "r1")
	if created || again.Number != 1 || again.ARN != v1.ARN {
		t.Fatalf("same revision published again: %+v, created %v", again, created)
	}
	for i := 2; i <= 5; i++ {
		if v, _ := publish(t, s, "m", fmt.Sprint("r", i)); v.Number != int64(i) {
			t.Fatalf("version %d numbered %d", i, v.Number)
		}
	}
	if v, _ := publish(t, s, "other", "r1"); v.Number != 1 {
		t.Fatalf("another machine's first version is %d", v.Number)
	}
	got, err := s.GetVersion(ctx(), smARN+"m:3")
	must(t, err)
	if got.Number != 3 || got.RevisionID != "r3" || got.RoleARN != "role" || got.StateMachineARN != smARN+"m" {
		t.Fatalf("version 3: %+v", got)
	}
	_, err = s.GetVersion(ctx(), smARN+"m:9")
	is(t, err, store.ErrNotFound)
	for _, limit := range []int{1, 2, 100} {
		if got := versionNumbers(t, s, "m", limit); fmt.Sprint(got) != "[5 4 3 2 1]" {
			t.Fatalf("limit %d: %v (newest first)", limit, got)
		}
	}
	_, _, err = s.ListVersions(ctx(), smARN+"m", store.Page{Limit: 1, Token: "garbage"})
	is(t, err, store.ErrInvalidToken)
	must(t, s.DeleteVersion(ctx(), smARN+"m:5"))
	is(t, s.DeleteVersion(ctx(), smARN+"m:5"), store.ErrNotFound)
	// Numbers are never reused.
	if v, _ := publish(t, s, "m", "r6"); v.Number != 6 {
		t.Fatalf("after deleting 5, published %d", v.Number)
	}
	if got := versionNumbers(t, s, "m", 2); fmt.Sprint(got) != "[6 4 3 2 1]" {
		t.Fatalf("after delete: %v", got)
	}
	// A version an alias routes to cannot be deleted.
	must(t, s.CreateAlias(ctx(), &store.Alias{ARN: smARN + "m:live", StateMachineARN: smARN + "m", Name: "live",
		Routing: []store.Route{{VersionARN: smARN + "m:4", Weight: 100}}, CreationDate: t0}))
	is(t, s.DeleteVersion(ctx(), smARN+"m:4"), store.ErrConflict)
	must(t, s.DeleteVersion(ctx(), smARN+"m:3"))
}

func alias(sm, name string, routes ...string) *store.Alias {
	a := &store.Alias{ARN: smARN + sm + ":" + name, StateMachineARN: smARN + sm, Name: name, Description: "about " + name, CreationDate: t0}
	for i, r := range routes {
		a.Routing = append(a.Routing, store.Route{VersionARN: smARN + sm + ":" + r, Weight: 100 - 10*i})
	}
	return a
}

func aliasNames(t *testing.T, s store.Versions, sm, version string, limit int) []string {
	t.Helper()
	v := ""
	if version != "" {
		v = smARN + sm + ":" + version
	}
	return allPages(t, limit, 20, func(p store.Page) ([]*store.Alias, string, error) { return s.ListAliases(ctx(), smARN+sm, v, p) },
		func(a *store.Alias) string { return a.Name })
}

func testAliases(t *testing.T, s store.Versions) {
	for i := 1; i <= 3; i++ {
		publish(t, s, "m", fmt.Sprint("r", i))
	}
	must(t, s.CreateAlias(ctx(), alias("m", "a", "1")))
	must(t, s.CreateAlias(ctx(), alias("m", "b", "2", "1")))
	must(t, s.CreateAlias(ctx(), alias("m", "c", "3")))
	must(t, s.CreateAlias(ctx(), alias("m", "d", "1", "3")))
	is(t, s.CreateAlias(ctx(), alias("m", "a", "2")), store.ErrAlreadyExists)
	got, err := s.GetAlias(ctx(), smARN+"m:b")
	must(t, err)
	if got.Name != "b" || got.Description != "about b" || len(got.Routing) != 2 || got.Routing[0].VersionARN != smARN+"m:2" ||
		got.Routing[1].Weight != 90 || !got.CreationDate.Equal(t0) || !got.UpdateDate.IsZero() {
		t.Fatalf("alias b: %+v", got)
	}
	_, err = s.GetAlias(ctx(), smARN+"m:zz")
	is(t, err, store.ErrNotFound)
	for _, limit := range []int{1, 3, 100} {
		if got := aliasNames(t, s, "m", "", limit); fmt.Sprint(got) != "[d c b a]" {
			t.Fatalf("limit %d: %v (newest first)", limit, got)
		}
		if got := aliasNames(t, s, "m", "1", limit); fmt.Sprint(got) != "[d b a]" {
			t.Fatalf("routing to 1, limit %d: %v", limit, got)
		}
	}
	upd := alias("m", "a", "3")
	upd.Description, upd.UpdateDate, upd.CreationDate = "new", t0.Add(time.Hour), t0.Add(48*time.Hour)
	must(t, s.UpdateAlias(ctx(), upd))
	is(t, s.UpdateAlias(ctx(), alias("m", "zz", "1")), store.ErrNotFound)
	got, err = s.GetAlias(ctx(), smARN+"m:a")
	must(t, err)
	if got.Description != "new" || len(got.Routing) != 1 || got.Routing[0].VersionARN != smARN+"m:3" ||
		!got.UpdateDate.Equal(t0.Add(time.Hour)) || !got.CreationDate.Equal(t0) {
		t.Fatalf("updated alias %+v", got)
	}
	if got := aliasNames(t, s, "m", "1", 1); fmt.Sprint(got) != "[d b]" {
		t.Fatalf("routing to 1 after update: %v", got)
	}
	must(t, s.DeleteAlias(ctx(), smARN+"m:c"))
	is(t, s.DeleteAlias(ctx(), smARN+"m:c"), store.ErrNotFound)
	if got := aliasNames(t, s, "m", "", 2); fmt.Sprint(got) != "[d b a]" {
		t.Fatalf("after delete: %v", got)
	}
	_, _, err = s.ListAliases(ctx(), smARN+"m", "", store.Page{Limit: 1, Token: "v.1"})
	is(t, err, store.ErrInvalidToken)
}

func testDeleteMachineVersions(t *testing.T, s store.Versions) {
	publish(t, s, "m", "r1")
	publish(t, s, "m", "r2")
	publish(t, s, "keep", "r1")
	must(t, s.CreateAlias(ctx(), alias("m", "a", "1")))
	must(t, s.DeleteMachineVersions(ctx(), smARN+"m"))
	must(t, s.DeleteMachineVersions(ctx(), smARN+"never"))
	if got := versionNumbers(t, s, "m", 10); len(got) != 0 {
		t.Fatalf("versions left: %v", got)
	}
	if got := aliasNames(t, s, "m", "", 10); len(got) != 0 {
		t.Fatalf("aliases left: %v", got)
	}
	_, err := s.GetAlias(ctx(), smARN+"m:a")
	is(t, err, store.ErrNotFound)
	// Re-created, the machine starts again at version 1.
	if v, _ := publish(t, s, "m", "r9"); v.Number != 1 {
		t.Fatalf("first version after re-creation is %d", v.Number)
	}
	if got := versionNumbers(t, s, "keep", 10); fmt.Sprint(got) != "[1]" {
		t.Fatalf("other machine's versions: %v", got)
	}
}

func tagText(t *testing.T, s store.Versions, arn string) string {
	t.Helper()
	tags, ok, err := s.Tags(ctx(), arn)
	must(t, err)
	if !ok {
		return "none"
	}
	return fmt.Sprint(tags)
}

func tg(k, v string) store.Tag { return store.Tag{Key: k, Value: v} }

func testTags(t *testing.T, s store.Versions) {
	r := smARN + "tagged"
	if got := tagText(t, s, r); got != "none" {
		t.Fatalf("fresh resource: %s", got)
	}
	must(t, s.SetTags(ctx(), r, []store.Tag{tg("a", "1"), tg("b", "2"), tg("a", "3")}))
	if got := tagText(t, s, r); got != "[{a 3} {b 2}]" {
		t.Fatalf("set: %s", got)
	}
	must(t, s.TagResource(ctx(), r, []store.Tag{tg("c", "4"), tg("a", "5")}, 3))
	if got := tagText(t, s, r); got != "[{a 5} {b 2} {c 4}]" {
		t.Fatalf("tagged: %s", got)
	}
	is(t, s.TagResource(ctx(), r, []store.Tag{tg("d", "6")}, 3), store.ErrLimitExceeded)
	must(t, s.TagResource(ctx(), r, []store.Tag{tg("aws:x", "7")}, 3)) // aws: keys do not count
	if got := tagText(t, s, r); got != "[{a 5} {b 2} {c 4} {aws:x 7}]" {
		t.Fatalf("after limit: %s", got)
	}
	must(t, s.UntagResource(ctx(), r, []string{"b", "zz", "aws:x"}))
	if got := tagText(t, s, r); got != "[{a 5} {c 4}]" {
		t.Fatalf("untagged: %s", got)
	}
	must(t, s.UntagResource(ctx(), r, []string{"a", "c"}))
	if got := tagText(t, s, r); got != "[]" {
		t.Fatalf("all untagged: %s", got)
	}
	must(t, s.SetTags(ctx(), r, nil))
	if got := tagText(t, s, r); got != "none" {
		t.Fatalf("dropped: %s", got)
	}
	must(t, s.UntagResource(ctx(), smARN+"other", []string{"a"}))
	if got := tagText(t, s, smARN+"other"); got != "[]" {
		t.Fatalf("untag of an untagged resource: %s", got)
	}
	must(t, s.TagResource(ctx(), smARN+"third", []store.Tag{tg("k", "v")}, 50))
	if got := tagText(t, s, smARN+"third"); got != "[{k v}]" {
		t.Fatalf("tag of an untagged resource: %s", got)
	}
}

func testMapRuns(t *testing.T, s store.Versions) {
	x := "arn:aws:states:us-east-1:123456789012:execution:m:e"
	run := func(i int) *store.MapRun {
		return &store.MapRun{ARN: fmt.Sprint("arn:aws:states:us-east-1:123456789012:mapRun:m/map:", i), ExecutionARN: x,
			StateMachineARN: smARN + "m/map", Status: "RUNNING", StartDate: t0.Add(time.Duration(i) * time.Second), MaxConcurrency: int64(i),
			ToleratedFailurePercentage: 2.5, ItemCounts: store.MapRunCounts{Total: int64(10 * i), Running: 3}}
	}
	for _, i := range []int{3, 1, 2} {
		must(t, s.PutMapRun(ctx(), run(i)))
	}
	must(t, s.PutMapRun(ctx(), &store.MapRun{ARN: "arn:other", ExecutionARN: x + "2", Status: "RUNNING"}))
	r := run(1)
	r.ItemCounts.Succeeded = 7
	must(t, s.PutMapRun(ctx(), r)) // replaces, keeps its place
	got, err := s.GetMapRun(ctx(), r.ARN)
	must(t, err)
	if got.ItemCounts.Succeeded != 7 || got.ItemCounts.Total != 10 || got.ToleratedFailurePercentage != 2.5 || !got.StartDate.Equal(r.StartDate) {
		t.Fatalf("map run %+v", got)
	}
	_, err = s.GetMapRun(ctx(), "arn:none")
	is(t, err, store.ErrNotFound)
	for _, limit := range []int{1, 2, 10} {
		ids := allPages(t, limit, 10, func(p store.Page) ([]*store.MapRun, string, error) { return s.ListMapRuns(ctx(), x, p) },
			func(r *store.MapRun) int64 { return r.MaxConcurrency })
		if fmt.Sprint(ids) != "[3 1 2]" {
			t.Fatalf("limit %d: %v (start order)", limit, ids)
		}
	}
	mc, pct := int64(9), 50.0
	must(t, s.UpdateMapRun(ctx(), r.ARN, store.MapRunUpdate{MaxConcurrency: &mc, ToleratedFailurePercentage: &pct}))
	got, err = s.GetMapRun(ctx(), r.ARN)
	must(t, err)
	if got.MaxConcurrency != 9 || got.ToleratedFailurePercentage != 50 || got.ToleratedFailureCount != 0 || got.ItemCounts.Succeeded != 7 {
		t.Fatalf("updated %+v", got)
	}
	is(t, s.UpdateMapRun(ctx(), "arn:none", store.MapRunUpdate{}), store.ErrNotFound)
	done := run(2)
	done.Status = "SUCCEEDED"
	must(t, s.PutMapRun(ctx(), done))
	is(t, s.UpdateMapRun(ctx(), done.ARN, store.MapRunUpdate{MaxConcurrency: &mc}), store.ErrConflict)
}

func testExecutionMeta(t *testing.T, s store.Versions) {
	x := "arn:aws:states:us-east-1:123456789012:execution:m:e"
	if _, ok, err := s.GetExecutionMeta(ctx(), x); err != nil || ok {
		t.Fatalf("fresh: ok %v, %v", ok, err)
	}
	m := store.ExecutionMeta{VersionARN: smARN + "m:1", AliasARN: smARN + "m:a", RedriveCount: 2, RedriveDate: t0,
		ClientTokens: []store.ClientToken{{Token: "t1", Used: t0}}}
	must(t, s.PutExecutionMeta(ctx(), x, m))
	m.RedriveCount = 3
	must(t, s.PutExecutionMeta(ctx(), x, m))
	got, ok, err := s.GetExecutionMeta(ctx(), x)
	must(t, err)
	if !ok || got.VersionARN != m.VersionARN || got.AliasARN != m.AliasARN || got.RedriveCount != 3 || !got.RedriveDate.Equal(t0) ||
		len(got.ClientTokens) != 1 || got.ClientTokens[0].Token != "t1" || !got.ClientTokens[0].Used.Equal(t0) {
		t.Fatalf("meta %+v", got)
	}
}
