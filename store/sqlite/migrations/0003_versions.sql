-- Schema version 3: versions, aliases, tags, Map Runs and execution
-- metadata (store.Versions). Records are JSON documents (data) next to the
-- columns their queries need.
CREATE TABLE versions (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	arn         TEXT    NOT NULL UNIQUE,
	machine_arn TEXT    NOT NULL,
	number      INTEGER NOT NULL,
	revision_id TEXT    NOT NULL,
	data        BLOB    NOT NULL
);
CREATE INDEX versions_by_machine ON versions (machine_arn, number);

-- The highest version number ever published per machine (numbers are
-- never reused).
CREATE TABLE version_counters (
	machine_arn TEXT    PRIMARY KEY,
	last        INTEGER NOT NULL
);

CREATE TABLE aliases (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	arn         TEXT    NOT NULL UNIQUE,
	machine_arn TEXT    NOT NULL,
	data        BLOB    NOT NULL
);
CREATE INDEX aliases_by_machine ON aliases (machine_arn, seq);

CREATE TABLE tags (
	arn  TEXT PRIMARY KEY,
	data BLOB NOT NULL
);

CREATE TABLE map_runs (
	seq           INTEGER PRIMARY KEY AUTOINCREMENT,
	arn           TEXT    NOT NULL UNIQUE,
	execution_arn TEXT    NOT NULL,
	data          BLOB    NOT NULL
);
CREATE INDEX map_runs_by_execution ON map_runs (execution_arn, seq);

CREATE TABLE execution_meta (
	execution_arn TEXT PRIMARY KEY,
	data          BLOB NOT NULL
);
