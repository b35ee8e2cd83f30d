-- Schema version 5: secrets (the key that signs task tokens).
CREATE TABLE secrets (
	name  TEXT PRIMARY KEY,
	value BLOB NOT NULL
);
