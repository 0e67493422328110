-- Saved goals: what counts as a conversion on a site. A page goal matches
-- pageviews by path (the filters' wildcards); an event goal matches custom
-- events by name and, optionally, one property value. A goal with a revenue
-- property sums that numeric property of its events, in `currency`.
CREATE TABLE IF NOT EXISTS goals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site TEXT NOT NULL,
    name TEXT NOT NULL,
    page TEXT NOT NULL DEFAULT '',
    event TEXT NOT NULL DEFAULT '',
    prop_key TEXT NOT NULL DEFAULT '',
    prop_value TEXT NOT NULL DEFAULT '',
    revenue_prop TEXT NOT NULL DEFAULT '',
    currency TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    UNIQUE (site, name)
);
