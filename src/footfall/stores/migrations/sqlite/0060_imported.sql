-- Imported aggregates: daily figures another analytics tool kept (Plausible's
-- CSV export, Google Analytics 4 reports), which the stats add to footfall's
-- own for the days they cover (footfall/stats/imported.py).
--
-- One row per (site, import, kind, local day, dimension values). `kind` names
-- the table of the export a row came from (visitors, sources, pages,
-- entry_pages, exit_pages, locations, devices, browsers, operating_systems,
-- custom_events); the dimension columns it does not have are ''. The
-- dimension columns carry the names of the stats' properties (`path` and
-- `host` as the events table names event:page and event:hostname), so the
-- stats' filters compile against them unchanged. `row_key` is a hash of
-- kind and dimensions. `visit_duration` is in seconds, summed over visits.
-- Re-importing a file replaces the rows of its `import_id`.
CREATE TABLE IF NOT EXISTS imported_stats (
    site TEXT NOT NULL,
    import_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    day TEXT NOT NULL,
    row_key TEXT NOT NULL,
    path TEXT NOT NULL DEFAULT '',
    host TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL DEFAULT '',
    entry_page TEXT NOT NULL DEFAULT '',
    exit_page TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    referrer TEXT NOT NULL DEFAULT '',
    utm_source TEXT NOT NULL DEFAULT '',
    utm_medium TEXT NOT NULL DEFAULT '',
    utm_campaign TEXT NOT NULL DEFAULT '',
    utm_content TEXT NOT NULL DEFAULT '',
    utm_term TEXT NOT NULL DEFAULT '',
    country TEXT NOT NULL DEFAULT '',
    region TEXT NOT NULL DEFAULT '',
    city TEXT NOT NULL DEFAULT '',
    device TEXT NOT NULL DEFAULT '',
    browser TEXT NOT NULL DEFAULT '',
    browser_version TEXT NOT NULL DEFAULT '',
    os TEXT NOT NULL DEFAULT '',
    os_version TEXT NOT NULL DEFAULT '',
    visitors INTEGER NOT NULL DEFAULT 0,
    pageviews INTEGER NOT NULL DEFAULT 0,
    events INTEGER NOT NULL DEFAULT 0,
    visits INTEGER NOT NULL DEFAULT 0,
    bounces INTEGER NOT NULL DEFAULT 0,
    visit_duration INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site, import_id, kind, day, row_key)
);

CREATE INDEX IF NOT EXISTS imported_stats_site_kind_day ON imported_stats (site, kind, day);

-- One row per import: where it came from and the days it covers (what the
-- dashboard names); `source` is plausible or ga4.
CREATE TABLE IF NOT EXISTS imported_imports (
    site TEXT NOT NULL,
    import_id TEXT NOT NULL,
    source TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    first_day TEXT NOT NULL,
    last_day TEXT NOT NULL,
    row_count INTEGER NOT NULL DEFAULT 0,
    imported_at INTEGER NOT NULL,
    PRIMARY KEY (site, import_id)
);
