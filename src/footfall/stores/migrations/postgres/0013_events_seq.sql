-- A commit-ordered cursor for the stats catch-up (footfall.stats.summaries.catchup), which SQLite
-- gets from its rowid. Writers take an advisory lock before they insert, so seq values
-- are handed out in commit order and no event can appear below the watermark later.
-- Events already stored start below it: their sites are summarised as incomplete
-- (raw SQL) until `footfall stats rebuild`, as on SQLite before migration 0010.
ALTER TABLE events ADD COLUMN IF NOT EXISTS seq bigserial;
CREATE INDEX IF NOT EXISTS events_seq ON events (seq);
INSERT INTO stats_state (key, value)
SELECT 'rollup_rowid', COALESCE(MAX(seq), 0) FROM events
ON CONFLICT (key) DO UPDATE SET value = excluded.value;
