-- stats_goal_rows: what saved goals are counted from, exactly, without raw events.
-- One row per (local day, event name, page path of a page view, custom event's
-- properties, visit, visitor) with how many events it stands for: a goal (page
-- path with wildcards, event name with a property match, revenue property)
-- is matched against these rows, so goals saved later count past events too.
-- Page views keep their path and `{}`; other events keep their properties and ''.
CREATE TABLE IF NOT EXISTS stats_goal_rows (
    site text NOT NULL,
    name text NOT NULL,
    path text NOT NULL,
    day integer NOT NULL,
    visitor_id text NOT NULL,
    visit_id text NOT NULL,
    props jsonb NOT NULL,
    n bigint NOT NULL DEFAULT 0
);
-- Keyed by the properties' hash: an index entry must stay under PostgreSQL's
-- ~2.7 kB limit, and properties may be far longer.
CREATE UNIQUE INDEX IF NOT EXISTS stats_goal_rows_key
    ON stats_goal_rows (site, name, path, day, visitor_id, visit_id, md5(props::text));
-- Sites folded before this table existed have no goal rows until
-- `footfall stats rebuild`; their goals are counted from raw events meanwhile.
ALTER TABLE stats_sites ADD COLUMN IF NOT EXISTS goal_rows integer NOT NULL DEFAULT 0;
