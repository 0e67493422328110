-- Annotations: a note on one day of a site's chart ("Launched pricing page").
-- `day` is a local day in the site's time zone, as YYYY-MM-DD text.
CREATE TABLE IF NOT EXISTS annotations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site TEXT NOT NULL,
    day TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS annotations_site_day ON annotations (site, day);

-- Saved funnels: a named list of steps, each a step expression the funnel
-- query reads (`event:page==/pricing`, `event:name==Signup`), as a JSON array.
CREATE TABLE IF NOT EXISTS funnels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site TEXT NOT NULL,
    name TEXT NOT NULL,
    steps TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (site, name)
);
