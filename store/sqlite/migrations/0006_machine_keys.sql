-- Schema version 6: executions are indexed by a small integer key of
-- their state machine instead of its ARN: an index entry of two or three
-- integers (and a short status) instead of a ~60-byte text is cheaper to
-- compare and splits its pages less often, at every execution inserted.
-- Keys are never deleted nor reused: a machine deleted and created again
-- keeps its key, so ListExecutions still lists its older executions.
-- executions.machine_arn stays (the row's own copy, read back with it).
CREATE TABLE machine_keys (
	key INTEGER PRIMARY KEY,
	arn TEXT    NOT NULL UNIQUE
);
INSERT INTO machine_keys (arn) SELECT DISTINCT machine_arn FROM executions ORDER BY machine_arn;

ALTER TABLE executions ADD COLUMN machine_key INTEGER NOT NULL DEFAULT 0;
UPDATE executions SET machine_key = (SELECT k.key FROM machine_keys k WHERE k.arn = executions.machine_arn);

DROP INDEX executions_by_machine;
DROP INDEX executions_by_status;
CREATE INDEX executions_by_machine ON executions (machine_key, seq);
CREATE INDEX executions_by_status ON executions (machine_key, status, seq);
