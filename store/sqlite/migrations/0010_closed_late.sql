-- Schema version 10: retention (DeleteClosedBefore) finds by their close
-- only the executions that closed an hour or more after they started
-- (lateClose); it reads the others in seq order, their start's. Nearly
-- every execution closes sooner (a short one is inserted closed): it
-- costs no index entry any more (~4 % of a short execution's start).
DROP INDEX executions_closed;
CREATE INDEX executions_closed_late ON executions (stop_ns) WHERE status <> 'RUNNING' AND stop_ns > start_ns + 3600000000000;
