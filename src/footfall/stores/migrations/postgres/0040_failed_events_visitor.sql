-- Failed events carry the visitor id their event would be stored with, so
-- erasure (`footfall delete-visitor`) finds them, and an index on ts for
-- retention (`footfall purge`). Rows kept before this take the visitor id of
-- their built event, where it had one (text that is not valid JSON gives '').
ALTER TABLE failed_events ADD COLUMN IF NOT EXISTS visitor_id text COLLATE "C" NOT NULL DEFAULT '';
CREATE OR REPLACE FUNCTION pg_temp.footfall_failed_visitor(doc text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN RETURN COALESCE(doc::jsonb ->> 'visitor_id', ''); EXCEPTION WHEN others THEN RETURN ''; END $$;
UPDATE failed_events SET visitor_id = pg_temp.footfall_failed_visitor(event)
WHERE event <> '';
CREATE INDEX IF NOT EXISTS failed_events_visitor ON failed_events (visitor_id)
WHERE visitor_id <> '';
CREATE INDEX IF NOT EXISTS failed_events_ts ON failed_events (ts);
