-- Stats summaries, folded in by the catch-up (footfall.stats.summaries.fold).
-- stats_visits: one row per visit (start/end, entry/exit page, first-event properties).
CREATE TABLE IF NOT EXISTS stats_visits (
    site TEXT NOT NULL,
    visit_id TEXT NOT NULL,
    visitor_id TEXT NOT NULL DEFAULT '',
    start_ts INTEGER NOT NULL,
    start_id TEXT NOT NULL,
    end_ts INTEGER NOT NULL,
    entry_ts INTEGER,
    entry_id TEXT,
    entry_page TEXT NOT NULL DEFAULT '',
    exit_ts INTEGER,
    exit_id TEXT,
    exit_page TEXT NOT NULL DEFAULT '',
    pageviews INTEGER NOT NULL DEFAULT 0,
    events INTEGER NOT NULL DEFAULT 0,
    source TEXT NOT NULL DEFAULT '',
    referrer TEXT NOT NULL DEFAULT '',
    utm_medium TEXT NOT NULL DEFAULT '',
    utm_source TEXT NOT NULL DEFAULT '',
    utm_campaign TEXT NOT NULL DEFAULT '',
    utm_content TEXT NOT NULL DEFAULT '',
    utm_term TEXT NOT NULL DEFAULT '',
    device TEXT NOT NULL DEFAULT '',
    browser TEXT NOT NULL DEFAULT '',
    browser_version TEXT NOT NULL DEFAULT '',
    os TEXT NOT NULL DEFAULT '',
    os_version TEXT NOT NULL DEFAULT '',
    country TEXT NOT NULL DEFAULT '',
    region TEXT NOT NULL DEFAULT '',
    city TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (site, visit_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS stats_visits_start ON stats_visits (site, start_ts);
-- stats_rollup: counters per site, dimension (dim; "a|b" for a two-dimensional key whose
-- first value is fvalue), grain (h = local hour, d = local day), bucket, value.
CREATE TABLE IF NOT EXISTS stats_rollup (
    site TEXT NOT NULL,
    dim TEXT NOT NULL,
    fvalue TEXT NOT NULL,
    grain TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    value TEXT NOT NULL,
    visits INTEGER NOT NULL DEFAULT 0,
    bounces INTEGER NOT NULL DEFAULT 0,
    duration INTEGER NOT NULL DEFAULT 0,
    pageviews INTEGER NOT NULL DEFAULT 0,
    events INTEGER NOT NULL DEFAULT 0,
    requests INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site, dim, fvalue, grain, bucket, value)
) WITHOUT ROWID;
-- stats_sketches: the visitors of the same rows as an Apache DataSketches HLL (lg_k=16).
CREATE TABLE IF NOT EXISTS stats_sketches (
    site TEXT NOT NULL,
    dim TEXT NOT NULL,
    fvalue TEXT NOT NULL,
    grain TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    value TEXT NOT NULL,
    visitors BLOB NOT NULL,
    UNIQUE (site, dim, fvalue, grain, bucket, value)
);
-- Which time zone a site's summaries are bucketed in, and whether they cover all its events.
CREATE TABLE IF NOT EXISTS stats_sites (
    site TEXT PRIMARY KEY,
    tz TEXT NOT NULL DEFAULT 'UTC',
    complete INTEGER NOT NULL DEFAULT 1,
    updated_at INTEGER NOT NULL DEFAULT 0
);
