-- Schema version 8: executions.seq is the table's plain rowid, without
-- AUTOINCREMENT, which made every insert read and rewrite the table's row
-- of sqlite_sequence (~3.5 % of the CPU of a short execution's start:
-- BenchmarkStartPath). A new execution's seq is one more than the largest
-- in the table; one is used again only if the executions with the
-- largest ones were all deleted (DeleteClosedBefore), and nothing keeps a
-- deleted execution's seq but a ListExecutions page token, which then
-- lists executions started since. The table is rebuilt (SQLite cannot
-- drop AUTOINCREMENT in place): a few seconds per million executions,
-- once (BenchmarkMigrate_FromV5).
CREATE TABLE executions_v8 (
	seq           INTEGER PRIMARY KEY,
	arn           TEXT    NOT NULL UNIQUE,
	name          TEXT    NOT NULL,
	machine_arn   TEXT    NOT NULL,
	machine_name  TEXT    NOT NULL,
	revision_id   TEXT    NOT NULL,
	type          TEXT    NOT NULL,
	status        TEXT    NOT NULL,
	input         TEXT    NOT NULL,
	trace_header  TEXT    NOT NULL,
	start_ns      INTEGER NOT NULL,
	stop_ns       INTEGER NOT NULL, -- 0 while running
	output        TEXT,
	error         TEXT,
	cause         TEXT,
	machine_key   INTEGER NOT NULL DEFAULT 0,
	first_events  BLOB,
	first_last    INTEGER NOT NULL DEFAULT 0,
	first_threads TEXT    NOT NULL DEFAULT ''
);
INSERT INTO executions_v8 (seq, arn, name, machine_arn, machine_name, revision_id, type, status, input, trace_header,
		start_ns, stop_ns, output, error, cause, machine_key, first_events, first_last, first_threads)
	SELECT seq, arn, name, machine_arn, machine_name, revision_id, type, status, input, trace_header,
		start_ns, stop_ns, output, error, cause, machine_key, first_events, first_last, first_threads
	FROM executions ORDER BY seq;
DROP TABLE executions;
ALTER TABLE executions_v8 RENAME TO executions;
CREATE INDEX executions_by_machine ON executions (machine_key, seq);
CREATE INDEX executions_by_status ON executions (machine_key, status, seq);
CREATE INDEX executions_running ON executions (seq) WHERE status = 'RUNNING';
CREATE INDEX executions_closed ON executions (stop_ns) WHERE status <> 'RUNNING';
DELETE FROM sqlite_sequence WHERE name = 'executions';
