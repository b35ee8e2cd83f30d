-- Stepwell store schema, version 4: secrets (the key that signs task tokens).
CREATE TABLE secrets (
    name  text PRIMARY KEY,
    value bytea NOT NULL
);
