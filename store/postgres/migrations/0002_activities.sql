-- Stepwell store schema, version 2: activities.
CREATE TABLE activities (
    arn           text PRIMARY KEY,
    seq           bigint GENERATED ALWAYS AS IDENTITY UNIQUE, -- creation order
    name          text NOT NULL,
    creation_date timestamptz NOT NULL,
    tags          bytea,
    encryption    bytea
);
