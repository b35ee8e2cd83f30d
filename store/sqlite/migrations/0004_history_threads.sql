-- Schema version 4: the events' threads (the internal Thread tag: "" for
-- the top level, "b1", "m3/b0"... for Parallel branches and Map
-- iterations) in a column of their own: the threads of a row's events in
-- order, comma-separated; '' when every event is top-level. Rows written
-- before (codec version 1) keep the threads inside their events blob.
ALTER TABLE history ADD COLUMN threads TEXT NOT NULL DEFAULT '';
