-- Sites the collector accepts events for (mirrors sqlite/0002_sites.sql).
CREATE TABLE IF NOT EXISTS sites (
    domain text COLLATE "C" PRIMARY KEY,
    timezone text NOT NULL DEFAULT 'UTC',
    public smallint NOT NULL DEFAULT 0,
    created_at bigint NOT NULL
);
