-- Imported aggregates (see the SQLite migration 0060_imported for the rows'
-- meaning). ClickHouse cannot delete cheaply, and on a cluster not at all
-- through the Distributed tables: a re-import inserts the same rows again,
-- ReplacingMergeTree collapses them on merge, and the stats read each row key
-- once (an inner GROUP BY) until then. On a cluster both tables are sharded
-- by site like the summaries (footfall/stores/ch_cluster.py), so the copies
-- of a row always meet on one shard.
CREATE TABLE IF NOT EXISTS imported_stats (
    site String,
    import_id String,
    kind String,
    day String,
    row_key String,
    path String,
    host String,
    name String,
    entry_page String,
    exit_page String,
    source String,
    referrer String,
    utm_source String,
    utm_medium String,
    utm_campaign String,
    utm_content String,
    utm_term String,
    country String,
    region String,
    city String,
    device String,
    browser String,
    browser_version String,
    os String,
    os_version String,
    visitors UInt64,
    pageviews UInt64,
    events UInt64,
    visits UInt64,
    bounces UInt64,
    visit_duration UInt64
) ENGINE = ReplacingMergeTree
ORDER BY (site, kind, day, import_id, row_key);

CREATE TABLE IF NOT EXISTS imported_imports (
    site String,
    import_id String,
    source String,
    label String,
    first_day String,
    last_day String,
    row_count UInt64,
    imported_at Int64
) ENGINE = ReplacingMergeTree
ORDER BY (site, import_id);
