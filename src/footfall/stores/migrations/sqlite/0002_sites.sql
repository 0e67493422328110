-- Sites the collector accepts events for. domain is lower-case, no scheme.
CREATE TABLE IF NOT EXISTS sites (
    domain TEXT PRIMARY KEY,
    timezone TEXT NOT NULL DEFAULT 'UTC',
    public INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
