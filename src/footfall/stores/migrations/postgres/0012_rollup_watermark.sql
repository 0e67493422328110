-- Mirrors sqlite/0012: the catch-up's watermark (on PostgreSQL, the last
-- events.seq folded into the summaries).
CREATE TABLE IF NOT EXISTS stats_state (
    key text PRIMARY KEY,
    value bigint NOT NULL
);
