-- Mirrors sqlite/0011: open visits are marked so the catch-up can close them.
ALTER TABLE stats_visits ADD COLUMN IF NOT EXISTS closed integer NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS stats_visits_open ON stats_visits (site, closed, end_ts);
