-- Visits idle for 30 minutes are closed: only then is their exit page final, and the
-- visitor is added to the exit page's sketch (footfall.stats.summaries.fold.close_idle_visits).
ALTER TABLE stats_visits ADD COLUMN closed INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS stats_visits_open ON stats_visits (site, closed, end_ts);
