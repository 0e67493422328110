-- The index on events(visitor_id) served only `delete-visitor` (a rare erasure
-- request), yet every insert paid for it, and more than for any other index: its
-- keys (hashed, random visitor ids) land on random leaf pages, which once the
-- index outgrows memory means a page read per event. Measured on the bench
-- machine, 2026-12-07: PostgreSQL COPY 87k -> 109k events/s in an interleaved
-- A/B (medians of 5), and 94-99k -> 156k in `bench/run.py --only stores`;
-- SQLite insert 7.9 -> 6.8 us/event. An erasure now scans the table
-- (see docs/stores.md, "Erasing a visitor").
DROP INDEX IF EXISTS events_visitor;
