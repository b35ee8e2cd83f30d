-- Stepwell embedded store, schema version 1.
-- Times are Unix nanoseconds (UTC). Sequence numbers give creation order and
-- back the page tokens.

CREATE TABLE machines (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	arn         TEXT    NOT NULL UNIQUE,
	name        TEXT    NOT NULL,
	type        TEXT    NOT NULL,
	creation_ns INTEGER NOT NULL,
	tags        BLOB,
	revision_id TEXT    NOT NULL
);

-- Every revision of every machine, also after the machine is deleted.
CREATE TABLE revisions (
	machine_arn TEXT    NOT NULL,
	revision_id TEXT    NOT NULL,
	definition  TEXT    NOT NULL,
	role_arn    TEXT    NOT NULL,
	logging     BLOB,
	tracing     BLOB,
	update_ns   INTEGER NOT NULL,
	PRIMARY KEY (machine_arn, revision_id)
);

CREATE TABLE executions (
	seq          INTEGER PRIMARY KEY AUTOINCREMENT,
	arn          TEXT    NOT NULL UNIQUE,
	name         TEXT    NOT NULL,
	machine_arn  TEXT    NOT NULL,
	machine_name TEXT    NOT NULL,
	revision_id  TEXT    NOT NULL,
	type         TEXT    NOT NULL,
	status       TEXT    NOT NULL,
	input        TEXT    NOT NULL,
	trace_header TEXT    NOT NULL,
	start_ns     INTEGER NOT NULL,
	stop_ns      INTEGER NOT NULL, -- 0 while running
	output       TEXT,
	error        TEXT,
	cause        TEXT
);
CREATE INDEX executions_by_machine ON executions (machine_arn, seq);
CREATE INDEX executions_by_status ON executions (machine_arn, status, seq);
CREATE INDEX executions_running ON executions (seq) WHERE status = 'RUNNING';
CREATE INDEX executions_closed ON executions (stop_ns) WHERE status <> 'RUNNING';

-- History: one row per AppendHistory call, holding its consecutive events
-- encoded together (see codec.go). Rows are appended in commit order (seq),
-- so a group commit touches few pages; the index finds an execution's rows
-- by the id of their last event.
CREATE TABLE history (
	seq       INTEGER PRIMARY KEY,
	execution INTEGER NOT NULL, -- executions.seq
	last_id   INTEGER NOT NULL,
	first_id  INTEGER NOT NULL,
	events    BLOB    NOT NULL
);
CREATE UNIQUE INDEX history_by_execution ON history (execution, last_id);
