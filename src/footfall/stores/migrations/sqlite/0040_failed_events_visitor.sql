-- Failed events carry the visitor id their event would be stored with, so
-- erasure (`footfall delete-visitor`) finds them, and an index on ts for
-- retention (`footfall purge`). Rows kept before this take the visitor id of
-- their built event, where it had one.
ALTER TABLE failed_events ADD COLUMN visitor_id TEXT NOT NULL DEFAULT '';
UPDATE failed_events
SET visitor_id = COALESCE(CAST(json_extract(event, '$.visitor_id') AS TEXT), '')
WHERE event <> '' AND json_valid(event);
CREATE INDEX IF NOT EXISTS failed_events_visitor ON failed_events (visitor_id)
WHERE visitor_id <> '';
CREATE INDEX IF NOT EXISTS failed_events_ts ON failed_events (ts);
