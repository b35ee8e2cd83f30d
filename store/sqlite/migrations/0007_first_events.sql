-- Schema version 7: the events given when an execution is created (its
-- first durable batch: the whole history of a run of Pass and Choice
-- states to its end) are kept in the execution's row, encoded as a
-- history row (codec.go), instead of in a row of history: one row and
-- one index entry fewer to write per execution. first_events holds them
-- (NULL when the execution was created without events, and in rows
-- written before), first_last the id of the last of them (their first is
-- 1; 0 when there are none), first_threads their threads column. Later
-- events are appended to history as before, with ids after first_last.
ALTER TABLE executions ADD COLUMN first_events BLOB;
ALTER TABLE executions ADD COLUMN first_last INTEGER NOT NULL DEFAULT 0;
ALTER TABLE executions ADD COLUMN first_threads TEXT NOT NULL DEFAULT '';
