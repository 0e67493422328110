-- stats_goal_rows: what saved goals are counted from, exactly, without raw events.
-- One row per (local day, event name, page path of a page view, custom event's
-- properties, visit, visitor) with how many events it stands for: a goal (page
-- path with wildcards, event name with a property match, revenue property)
-- is matched against these rows, so goals saved later count past events too.
-- Page views keep their path and `{}`; other events keep their properties and ''.
CREATE TABLE IF NOT EXISTS stats_goal_rows (
    site TEXT NOT NULL,
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    day INTEGER NOT NULL,
    visitor_id TEXT NOT NULL,
    visit_id TEXT NOT NULL,
    props TEXT NOT NULL,
    n INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site, name, path, day, visitor_id, visit_id, props)
) WITHOUT ROWID;
-- Sites folded before this table existed have no goal rows until
-- `footfall stats rebuild`; their goals are counted from raw events meanwhile.
ALTER TABLE stats_sites ADD COLUMN goal_rows INTEGER NOT NULL DEFAULT 0;
