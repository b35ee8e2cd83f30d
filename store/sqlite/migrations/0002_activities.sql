-- Schema version 2: activities.
CREATE TABLE activities (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	arn         TEXT    NOT NULL UNIQUE,
	name        TEXT    NOT NULL,
	creation_ns INTEGER NOT NULL,
	tags        BLOB,
	encryption  BLOB
);
