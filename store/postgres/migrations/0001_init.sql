-- Stepwell store schema, version 1.
--
-- Free-form payloads (definitions, inputs, outputs, errors, causes, event
-- details) are bytea: PostgreSQL text cannot hold NUL or invalid UTF-8, and
-- Stepwell must store whatever an execution produced.
--
-- The schema is ready for several `stepwell serve` processes sharing one
-- database: an execution's `owner` is the process that runs it and
-- `lease_until` when that claim expires (NULL: held until the owner stops;
-- a later version renews leases and lets other processes take over expired
-- ones with FOR UPDATE SKIP LOCKED, using executions_running).

CREATE TABLE state_machines (
    arn           text PRIMARY KEY,
    seq           bigint GENERATED ALWAYS AS IDENTITY UNIQUE, -- creation order
    name          text NOT NULL,
    type          text NOT NULL,
    creation_date timestamptz NOT NULL,
    tags          bytea,
    revision_id   text NOT NULL -- the current revision
);

-- Revisions outlive their machine (executions keep pointing at them).
CREATE TABLE revisions (
    machine_arn text NOT NULL,
    revision_id text NOT NULL,
    definition  bytea NOT NULL,
    role_arn    text NOT NULL,
    logging     bytea,
    tracing     bytea,
    update_date timestamptz, -- NULL for the revision made at creation
    PRIMARY KEY (machine_arn, revision_id)
);

CREATE TABLE executions (
    arn                text PRIMARY KEY,
    seq                bigint GENERATED ALWAYS AS IDENTITY UNIQUE, -- creation order
    name               text NOT NULL,
    state_machine_arn  text NOT NULL,
    state_machine_name text NOT NULL,
    revision_id        text NOT NULL,
    type               text NOT NULL,
    status             text NOT NULL,
    input              bytea NOT NULL,
    trace_header       bytea NOT NULL,
    start_date         timestamptz NOT NULL,
    stop_date          timestamptz, -- NULL while running
    output             bytea,
    error              bytea,
    cause              bytea,
    last_event_id      bigint NOT NULL DEFAULT 0, -- id of the newest history event
    owner              text,
    lease_until        timestamptz
);

CREATE INDEX executions_by_machine ON executions (state_machine_arn, seq DESC);
CREATE INDEX executions_by_machine_status ON executions (state_machine_arn, status, seq DESC);
-- Recovery and lease scans: only running executions are indexed.
CREATE INDEX executions_running ON executions (lease_until NULLS FIRST, seq) WHERE status = 'RUNNING';
CREATE INDEX executions_running_owner ON executions (owner, seq) WHERE status = 'RUNNING';
-- Retention of closed executions.
CREATE INDEX executions_closed ON executions (stop_date NULLS FIRST) WHERE status <> 'RUNNING';

-- One row per event. The primary key makes it impossible for two writers to
-- append the same id to one execution.
CREATE TABLE history (
    execution_arn text NOT NULL,
    event_id      bigint NOT NULL,
    previous_id   bigint NOT NULL,
    type          text NOT NULL,
    thread        text NOT NULL, -- "" top level, "b1", "m3/b0": the line of control
    ts            timestamptz NOT NULL,
    details       bytea NOT NULL, -- the event as the AWS JSON protocol encodes it
    PRIMARY KEY (execution_arn, event_id)
);
