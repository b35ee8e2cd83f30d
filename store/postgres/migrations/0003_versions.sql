-- Stepwell store schema, version 3: state machine versions and aliases,
-- resource tags, Map Runs and execution metadata (store.Versions).
--
-- Each record is its JSON document (data, bytea like the other payloads)
-- next to the columns its queries need. Writes that check a per-machine
-- limit or rule take a transaction-scoped advisory lock on the machine
-- (or the tagged resource), so that several processes sharing the
-- database apply them one at a time.

CREATE TABLE versions (
    arn         text PRIMARY KEY,
    machine_arn text NOT NULL,
    number      bigint NOT NULL,
    revision_id text NOT NULL,
    data        bytea NOT NULL,
    UNIQUE (machine_arn, number)
);
CREATE INDEX versions_by_revision ON versions (machine_arn, revision_id);

-- The highest version number ever published per machine (numbers are
-- never reused, until the machine itself is deleted).
CREATE TABLE version_counters (
    machine_arn text PRIMARY KEY,
    last        bigint NOT NULL
);

CREATE TABLE aliases (
    arn          text PRIMARY KEY,
    seq          bigint GENERATED ALWAYS AS IDENTITY UNIQUE, -- creation order
    machine_arn  text NOT NULL,
    version_arns text[] NOT NULL, -- the versions its routing names
    data         bytea NOT NULL
);
CREATE INDEX aliases_by_machine ON aliases (machine_arn, seq DESC);
CREATE INDEX aliases_by_version ON aliases USING gin (version_arns);

-- A resource's tag set, in the order its keys were first set.
CREATE TABLE tags (
    arn  text PRIMARY KEY,
    data bytea NOT NULL
);

CREATE TABLE map_runs (
    arn           text PRIMARY KEY,
    seq           bigint GENERATED ALWAYS AS IDENTITY UNIQUE, -- start order
    execution_arn text NOT NULL,
    status        text NOT NULL,
    data          bytea NOT NULL
);
CREATE INDEX map_runs_by_execution ON map_runs (execution_arn, seq);

CREATE TABLE execution_meta (
    execution_arn text PRIMARY KEY,
    data          bytea NOT NULL
);
