-- The raw event table (mirrors sqlite/0001_events.sql column for column).
-- ts is UTC microseconds since the epoch (Int64), as on SQLite and PostgreSQL:
-- exact, the same bound parameters on every store, and valid on ClickHouse
-- 18.16 (Debian's), which has no DateTime64.
-- ReplacingMergeTree: the store checks ids before inserting, so a retried batch
-- adds nothing; two writers racing with the same event leave two identical rows
-- (same sorting key), which a background merge collapses into one.
-- Partitioned by UTC month (retention drops whole partitions); sorted for the
-- stats queries: one site, a date range, then per visitor in time order.
CREATE TABLE IF NOT EXISTS events (
    id String,
    ts Int64,
    site String,
    name String,
    source String,
    url String,
    host String,
    path String,
    title String,
    referrer String,
    referrer_host String,
    referrer_source String,
    utm_source String,
    utm_medium String,
    utm_campaign String,
    utm_term String,
    utm_content String,
    method String,
    status Int32,
    duration_ms Float64,
    bytes Int64,
    visitor_id String,
    visit_id String,
    user_id String,
    ip String,
    user_agent String,
    country String,
    region String,
    city String,
    browser String,
    browser_version String,
    os String,
    os_version String,
    device String,
    is_bot UInt8,
    language String,
    screen String,
    platform String,
    timezone String,
    props String DEFAULT '{}',
    context String DEFAULT '{}',
    schema String
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(toDateTime(intDiv(ts, 1000000), 'UTC'))
ORDER BY (site, toDate(toDateTime(intDiv(ts, 1000000), 'UTC')), visitor_id, ts, id)
SETTINGS index_granularity = 8192;
