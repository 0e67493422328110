-- Mirrors sqlite/0012 (added by the stats helper to keep the mirror complete). Summaries
-- are SQLite-only for now; the table is here so versions line up.
CREATE TABLE IF NOT EXISTS stats_state (
    key text PRIMARY KEY,
    value bigint NOT NULL
);
