package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/sqlite"
)

// TestOpen_Upgrading: OpenWith calls Options.Upgrading before it migrates
// a database of an older schema, with its version and the newest, and
// not for a new database nor for one that is up to date.
func TestOpen_Upgrading(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	old := filepath.Join(dir, "old.db")
	if err := sqlite.CreateAtVersion(ctx, old, 5); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		path string
		want [][2]int
	}{
		{"older schema", old, [][2]int{{5, sqlite.SchemaVersion()}}},
		{"up to date (the same database, migrated)", old, nil},
		{"new database", filepath.Join(dir, "new.db"), nil},
	} {
		var got [][2]int
		s, err := sqlite.OpenWith(ctx, tt.path, sqlite.Options{Upgrading: func(from, to int) { got = append(got, [2]int{from, to}) }})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: Upgrading called with %v, want %v", tt.name, got, tt.want)
		}
	}
}

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

// BenchmarkMigrate_FromV5 measures how long Open takes to migrate a
// database of schema version 5 holding STEPWELL_BENCH_MIGRATE_ROWS
// executions (default 100,000; each with a 1 KiB history row, spread over
// 10 machines) to the current schema: version 6 rewrites every
// execution row (its machine key) and rebuilds two indexes, version 7
// only adds columns. It reports the seconds Open took and that
// extrapolated to a million executions (the server serves nothing
// meanwhile).
//
//	go test -run '^$' -bench Migrate_FromV5 -benchtime 1x ./store/sqlite/
func BenchmarkMigrate_FromV5(b *testing.B) {
	n := 100_000
	if v := os.Getenv("STEPWELL_BENCH_MIGRATE_ROWS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("STEPWELL_BENCH_MIGRATE_ROWS=%q", v)
		}
	}
	ctx := context.Background()
	for range b.N {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "s.db")
		if err := sqlite.CreateAtVersion(ctx, path, 5); err != nil {
			b.Fatal(err)
		}
		db, err := sql.Open("sqlite", path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)")
		if err != nil {
			b.Fatal(err)
		}
		tx, err := db.Begin()
		if err != nil {
			b.Fatal(err)
		}
		events := strings.Repeat("x", 1024)
		for i := range n {
			m := fmt.Sprintf("arn:aws:states:us-east-1:123456789012:stateMachine:m%d", i%10)
			res, err := tx.Exec(`INSERT INTO executions (arn, name, machine_arn, machine_name, revision_id, type, status, input,
				trace_header, start_ns, stop_ns) VALUES (?, ?, ?, 'm', 'r1', 'STANDARD', 'SUCCEEDED', '{}', '', 1, 2)`,
				fmt.Sprintf("%s:e%d", m, i), fmt.Sprint("e", i), m)
			if err != nil {
				b.Fatal(err)
			}
			seq, _ := res.LastInsertId()
			if _, err := tx.Exec(`INSERT INTO history (execution, last_id, first_id, events) VALUES (?, 22, 1, ?)`, seq, events); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		if _, err := db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			b.Fatal(err)
		}
		db.Close()
		b.StartTimer()
		begin := time.Now()
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		el := time.Since(begin)
		b.StopTimer()
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(el.Seconds(), "open-s")
		b.ReportMetric(el.Seconds()*1e6/float64(n), "open-s@1M")
	}
}

// TestMigrate_ExecutionsRowid opens a database of schema version 7, whose
// executions table had an AUTOINCREMENT seq, and checks version 8's: the
// same executions under the same seqs (their histories follow them: see
// TestMigrate_FirstEvents), no AUTOINCREMENT nor sqlite_sequence row left,
// the indexes back (as versions 9 and 10 change them), a sound database, and new executions numbered
// after the largest seq.
func TestMigrate_ExecutionsRowid(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	if err := sqlite.CreateAtVersion(ctx, path, 7); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for i, status := range []string{store.StatusRunning, store.StatusSucceeded, store.StatusFailed} {
		if _, err := db.Exec(`INSERT INTO executions (seq, arn, name, machine_arn, machine_name, revision_id, type, status, input,
			trace_header, start_ns, stop_ns, machine_key, first_last) VALUES (?, ?, ?, 'arn:sm', 'sm', 'r1', 'STANDARD', ?, '{}', '', 1, 0, 1, ?)`,
			10*(i+1), fmt.Sprintf("arn:x:%d", i), fmt.Sprint(i), status, i); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s := open(t, path)
	if err := s.CreateExecution(ctx, &store.Execution{ARN: "arn:x:new", Name: "new", StateMachineARN: "arn:sm", StateMachineName: "sm",
		RevisionID: "r1", Type: "STANDARD", Status: store.StatusRunning, Input: "{}", StartDate: time.Unix(2, 0)}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got []string
	rows, err := db.Query(`SELECT seq, arn, status, first_last FROM executions ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var seq, last int64
		var arn, status string
		if err := rows.Scan(&seq, &arn, &status, &last); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d %s %s %d", seq, arn, status, last))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{"10 arn:x:0 RUNNING 0", "20 arn:x:1 SUCCEEDED 1", "30 arn:x:2 FAILED 2", "31 arn:x:new RUNNING 0"}
	if !slices.Equal(got, want) {
		t.Errorf("executions %q, want %q", got, want)
	}
	var table string
	if err := db.QueryRow(`SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'executions'`).Scan(&table); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToUpper(table), "AUTOINCREMENT") {
		t.Errorf("executions is still AUTOINCREMENT: %s", table)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_sequence WHERE name = 'executions'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("sqlite_sequence rows of executions: %d (%v), want none", n, err)
	}
	var indexes []string
	rows, err = db.Query(`SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'executions' AND sql IS NOT NULL ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		indexes = append(indexes, name)
	}
	if want := []string{"executions_by_status", "executions_closed_late", "executions_running"}; !slices.Equal(indexes, want) {
		t.Errorf("indexes %q, want %q", indexes, want)
	}
	var check string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check: %s %v", check, err)
	}
}
