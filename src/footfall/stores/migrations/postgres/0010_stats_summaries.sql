-- Mirrors sqlite/0010. Stats summaries, folded from events by the catch-up
-- (footfall.stats.summaries.catchup), trailing the writes.
-- stats_visits: one row per visit (start/end, entry/exit page, first-event properties).
CREATE TABLE IF NOT EXISTS stats_visits (
    site text NOT NULL,
    visit_id text NOT NULL,
    visitor_id text NOT NULL DEFAULT '',
    start_ts bigint NOT NULL,
    start_id text NOT NULL,
    end_ts bigint NOT NULL,
    entry_ts bigint,
    entry_id text,
    entry_page text NOT NULL DEFAULT '',
    exit_ts bigint,
    exit_id text,
    exit_page text NOT NULL DEFAULT '',
    pageviews bigint NOT NULL DEFAULT 0,
    events bigint NOT NULL DEFAULT 0,
    source text NOT NULL DEFAULT '',
    referrer text NOT NULL DEFAULT '',
    utm_medium text NOT NULL DEFAULT '',
    utm_source text NOT NULL DEFAULT '',
    utm_campaign text NOT NULL DEFAULT '',
    utm_content text NOT NULL DEFAULT '',
    utm_term text NOT NULL DEFAULT '',
    device text NOT NULL DEFAULT '',
    browser text NOT NULL DEFAULT '',
    browser_version text NOT NULL DEFAULT '',
    os text NOT NULL DEFAULT '',
    os_version text NOT NULL DEFAULT '',
    country text NOT NULL DEFAULT '',
    region text NOT NULL DEFAULT '',
    city text NOT NULL DEFAULT '',
    PRIMARY KEY (site, visit_id)
);
CREATE INDEX IF NOT EXISTS stats_visits_start ON stats_visits (site, start_ts);
-- stats_rollup: counters per site, dimension (dim; "a|b" for a two-dimensional key whose
-- first value is fvalue), grain (h = local hour, d = local day), bucket, value.
CREATE TABLE IF NOT EXISTS stats_rollup (
    site text NOT NULL,
    dim text NOT NULL,
    fvalue text NOT NULL,
    grain text NOT NULL,
    bucket bigint NOT NULL,
    value text NOT NULL,
    visits bigint NOT NULL DEFAULT 0,
    bounces bigint NOT NULL DEFAULT 0,
    duration bigint NOT NULL DEFAULT 0,
    pageviews bigint NOT NULL DEFAULT 0,
    events bigint NOT NULL DEFAULT 0,
    requests bigint NOT NULL DEFAULT 0,
    bytes bigint NOT NULL DEFAULT 0,
    errors bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (site, dim, fvalue, grain, bucket, value)
);
-- stats_sketches: the visitors of the same rows as an Apache DataSketches HLL (lg_k=16).
CREATE TABLE IF NOT EXISTS stats_sketches (
    site text NOT NULL,
    dim text NOT NULL,
    fvalue text NOT NULL,
    grain text NOT NULL,
    bucket bigint NOT NULL,
    value text NOT NULL,
    visitors bytea NOT NULL,
    UNIQUE (site, dim, fvalue, grain, bucket, value)
);
-- Which time zone a site's summaries are bucketed in, and whether they cover all its events.
CREATE TABLE IF NOT EXISTS stats_sites (
    site text PRIMARY KEY,
    tz text NOT NULL DEFAULT 'UTC',
    complete bigint NOT NULL DEFAULT 1,
    updated_at bigint NOT NULL DEFAULT 0
);
