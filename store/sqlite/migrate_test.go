package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/sqlite"
)

// TestMigrate_MachineKeys opens a database of schema version 5, whose
// executions were indexed by their machine's ARN, and lists them by the
// machine keys of version 6: the same executions in the same order and
// pages, also those of a deleted machine; executions started after the
// upgrade join their machine's list.
func TestMigrate_MachineKeys(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	if err := sqlite.CreateAtVersion(ctx, path, 5); err != nil {
		t.Fatal(err)
	}
	const (
		a    = "arn:aws:states:us-east-1:123456789012:stateMachine:a"
		b    = "arn:aws:states:us-east-1:123456789012:stateMachine:b"
		gone = "arn:aws:states:us-east-1:123456789012:stateMachine:gone" // deleted: executions, no machine row
	)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{a, b} {
		if _, err := db.Exec(`INSERT INTO machines (arn, name, type, creation_ns, revision_id) VALUES (?, 'm', 'STANDARD', 1, 'r1');
			INSERT INTO revisions (machine_arn, revision_id, definition, role_arn, update_ns) VALUES (?, 'r1', '{}', 'role', 1)`, m, m); err != nil {
			t.Fatal(err)
		}
	}
	// Executions interleaved across the machines, in several statuses.
	type row struct{ arn, machine, status string }
	var rows []row
	statuses := []string{store.StatusRunning, store.StatusSucceeded, store.StatusFailed}
	for i := range 30 {
		m := []string{a, b, gone}[i%3]
		rows = append(rows, row{fmt.Sprintf("arn:x:%d", i), m, statuses[(i/3)%3]})
	}
	for _, r := range rows {
		if _, err := db.Exec(`INSERT INTO executions (arn, name, machine_arn, machine_name, revision_id, type, status, input,
			trace_header, start_ns, stop_ns) VALUES (?, ?, ?, 'm', 'r1', 'STANDARD', ?, '{}', '', 1, 0)`, r.arn, r.arn, r.machine, r.status); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s := open(t, path)
	defer s.Close()
	// list reads every page of 4 and checks the tokens: the seq of each
	// page's last execution, as version 5 gave.
	list := func(machine, status string) []string {
		t.Helper()
		var arns []string
		tok := ""
		for {
			page, next, err := s.ListExecutions(ctx, store.ExecutionFilter{StateMachineARN: machine, Status: status}, store.Page{Limit: 4, Token: tok})
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range page {
				arns = append(arns, x.ARN)
				if x.StateMachineARN != machine {
					t.Fatalf("%s listed for %s", x.ARN, machine)
				}
			}
			if next == "" {
				return arns
			}
			var last int
			if _, err := fmt.Sscanf(page[len(page)-1].ARN, "arn:x:%d", &last); err != nil {
				tok = next // an execution started after the upgrade
				continue
			}
			if want := store.PageToken("x", int64(last+1)); next != want { // seq = index + 1
				t.Fatalf("token after %s: %q, want %q", page[len(page)-1].ARN, next, want)
			}
			tok = next
		}
	}
	want := func(machine, status string) []string {
		var arns []string
		for _, r := range slices.Backward(rows) {
			if r.machine == machine && (status == "" || r.status == status) {
				arns = append(arns, r.arn)
			}
		}
		return arns
	}
	for _, m := range []string{a, b, gone, "arn:never"} {
		for _, st := range append([]string{""}, statuses...) {
			if got, w := list(m, st), want(m, st); !slices.Equal(got, w) {
				t.Errorf("%s %q: %q, want %q", m, st, got, w)
			}
		}
	}

	// New executions, of the old machines and of a new one.
	for _, m := range []string{a, gone, "arn:new"} {
		x := &store.Execution{ARN: "arn:after:" + m, Name: "after", StateMachineARN: m, RevisionID: "r1", Type: "STANDARD",
			Status: store.StatusRunning, Input: "{}", StartDate: time.Unix(5, 0)}
		if err := s.CreateExecution(ctx, x, nil, nil); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row{x.ARN, m, x.Status})
	}
	for _, m := range []string{a, b, gone, "arn:new"} {
		if got, w := list(m, ""), want(m, ""); !slices.Equal(got, w) {
			t.Errorf("after new executions, %s: %q, want %q", m, got, w)
		}
	}
}
