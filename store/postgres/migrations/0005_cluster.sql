-- Stepwell store schema, version 5: several processes on one database.
--
-- Each `stepwell serve` process registers a row in nodes when it starts;
-- its id is the fencing token of everything it owns, and lease_until is
-- when its claim on its executions expires unless renewed. A running
-- execution is owned by the node whose id is in owner_node (owner keeps
-- its name, for people). An execution whose owner_node names no node
-- (NULL, or a node whose expired lease another node has deleted) is an
-- orphan: any live node may claim it and resume it from its history.
CREATE TABLE nodes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- never reused
    name        text NOT NULL, -- stable across restarts (host:port by default)
    started     timestamptz NOT NULL DEFAULT now(),
    lease_until timestamptz NOT NULL
);
CREATE INDEX nodes_by_name ON nodes (name);

ALTER TABLE executions ADD COLUMN owner_node bigint;
CREATE INDEX executions_running_node ON executions (owner_node, seq) WHERE status = 'RUNNING';

-- Requests only an execution's driving process can apply (stop, task
-- callbacks), sent to all processes with NOTIFY stepwell_signals; the
-- process that applied one writes its answer.
CREATE TABLE signals (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created     timestamptz NOT NULL DEFAULT now(),
    data        bytea NOT NULL, -- the store.Signal as JSON
    answered_by bigint,
    answer      text
);
