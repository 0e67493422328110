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
    site text NOT NULL,
    import_id text NOT NULL,
    kind text NOT NULL,
    day text NOT NULL,
    row_key text NOT NULL,
    path text COLLATE "C" NOT NULL DEFAULT '',
    host text COLLATE "C" NOT NULL DEFAULT '',
    name text COLLATE "C" NOT NULL DEFAULT '',
    entry_page text COLLATE "C" NOT NULL DEFAULT '',
    exit_page text COLLATE "C" NOT NULL DEFAULT '',
    source text COLLATE "C" NOT NULL DEFAULT '',
    referrer text COLLATE "C" NOT NULL DEFAULT '',
    utm_source text COLLATE "C" NOT NULL DEFAULT '',
    utm_medium text COLLATE "C" NOT NULL DEFAULT '',
    utm_campaign text COLLATE "C" NOT NULL DEFAULT '',
    utm_content text COLLATE "C" NOT NULL DEFAULT '',
    utm_term text COLLATE "C" NOT NULL DEFAULT '',
    country text COLLATE "C" NOT NULL DEFAULT '',
    region text COLLATE "C" NOT NULL DEFAULT '',
    city text COLLATE "C" NOT NULL DEFAULT '',
    device text COLLATE "C" NOT NULL DEFAULT '',
    browser text COLLATE "C" NOT NULL DEFAULT '',
    browser_version text COLLATE "C" NOT NULL DEFAULT '',
    os text COLLATE "C" NOT NULL DEFAULT '',
    os_version text COLLATE "C" NOT NULL DEFAULT '',
    visitors bigint NOT NULL DEFAULT 0,
    pageviews bigint NOT NULL DEFAULT 0,
    events bigint NOT NULL DEFAULT 0,
    visits bigint NOT NULL DEFAULT 0,
    bounces bigint NOT NULL DEFAULT 0,
    visit_duration bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (site, import_id, kind, day, row_key)
);

CREATE INDEX IF NOT EXISTS imported_stats_site_kind_day ON imported_stats (site, kind, day);

-- One row per import: where it came from and the days it covers (what the
-- dashboard names); `source` is plausible or ga4.
CREATE TABLE IF NOT EXISTS imported_imports (
    site text NOT NULL,
    import_id text NOT NULL,
    source text NOT NULL,
    label text COLLATE "C" NOT NULL DEFAULT '',
    first_day text NOT NULL,
    last_day text NOT NULL,
    row_count bigint NOT NULL DEFAULT 0,
    imported_at bigint NOT NULL,
    PRIMARY KEY (site, import_id)
);
