-- Events that failed schema validation (Snowplow's "bad rows"), kept for retry.
-- payload is the original input as received; event is the built footfall
-- Event as JSON (empty when none could be built); status is failed|recovered.
CREATE TABLE IF NOT EXISTS failed_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts INTEGER NOT NULL,
    site TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    schema TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '',
    event TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 1,
    status TEXT NOT NULL DEFAULT 'failed'
);
CREATE INDEX IF NOT EXISTS failed_events_status ON failed_events (status, id);
