-- Summaries trail the writes (footfall.stats.summaries.catchup): `rollup_rowid` is the last events
-- rowid folded into the summaries. A catch-up reads the events after it in rowid order,
-- folds them in and moves it, in one write transaction. A database that already has
-- events starts at its last rowid: those were summarised at write time by older versions
-- (or predate summaries, in which case their sites are marked incomplete as before).
CREATE TABLE IF NOT EXISTS stats_state (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO stats_state (key, value)
SELECT 'rollup_rowid', COALESCE(MAX(rowid), 0) FROM events;
