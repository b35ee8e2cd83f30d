package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestQueryPlans checks that the list and retention queries read an index
// in the order they return, without sorting, ListExecutions by the machine
// key and
// status; without a status, the newest of each status are found in that
// index alone (covering) and sorted, at most a page of each.
func TestQueryPlans(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, c := range []struct {
		name, query string
		args        []any
		want        []string
	}{
		{"ListExecutions", listExecutions, []any{"arn:sm", 10, 11},
			[]string{"SEARCH executions USING INTEGER PRIMARY KEY (rowid=?)",
				"SEARCH executions USING COVERING INDEX executions_by_status (machine_key=? AND status=? AND seq<?)",
				"SEARCH machine_keys USING COVERING INDEX"}},
		{"ListExecutions by status", listExecutionsByStatus, []any{"arn:sm", "RUNNING", 10, 11},
			[]string{"SEARCH executions USING INDEX executions_by_status (machine_key=? AND status=? AND seq<?)", "SEARCH machine_keys USING COVERING INDEX"}},
		{"retention, closed late", lateClosedQuery, []any{10, 256},
			[]string{"SEARCH executions USING INDEX executions_closed_late (stop_ns<?)"}},
		{"retention, in seq order", retainScanQuery, []any{0, 2048},
			[]string{"SEARCH executions USING INTEGER PRIMARY KEY (rowid>?)"}},
	} {
		rows, err := s.rdb.QueryContext(ctx, "EXPLAIN QUERY PLAN "+c.query, c.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		all := strings.Join(plan, "\n")
		for _, w := range c.want {
			if !strings.Contains(all, w) {
				t.Errorf("%s: plan lacks %q:\n%s", c.name, w, all)
			}
		}
		if c.query == listExecutions {
			// The arms' pages are merged (sorting a page of each): none
			// scans a table or an index.
			if n := strings.Count(all, "USING COVERING INDEX executions_by_status"); n != len(listedStatuses) {
				t.Errorf("%s: %d searches of executions_by_status, want one per status (%d):\n%s", c.name, n, len(listedStatuses), all)
			}
			if strings.Contains(all, "SCAN executions") || strings.Contains(all, "SCAN machine_keys") {
				t.Errorf("%s: plan scans:\n%s", c.name, all)
			}
			continue
		}
		if strings.Contains(all, "TEMP B-TREE") || strings.Contains(all, "SCAN") {
			t.Errorf("%s: plan sorts or scans:\n%s", c.name, all)
		}
	}
}
