-- Schema version 9: ListExecutions without a status filter merges the
-- newest executions of each status (executions_by_status, see
-- listAnyStatus), so the index of a machine's executions in any status
-- goes, and with it one index entry to write per execution.
DROP INDEX executions_by_machine;
