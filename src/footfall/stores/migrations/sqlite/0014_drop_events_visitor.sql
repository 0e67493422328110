-- The index on events(visitor_id) served only `delete-visitor` (a rare erasure
-- request), yet every insert paid for it, and more than for any other index: its
-- keys (hashed, random visitor ids) land on random leaf pages, which once the
-- index outgrows memory means a page read per event. An erasure now scans the
-- table (docs/stores.md, "Erasing a visitor"; the figures are in
-- docs/decisions/0009-no-visitor-id-index.md).
DROP INDEX IF EXISTS events_visitor;
