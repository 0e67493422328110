-- Stats summaries kept by ClickHouse itself (see footfall/stores/ch_views.py).
-- Materialized views fold every block inserted into `events` - by the store,
-- clickhouse-client or anything else - into per-(site, UTC hour) states, so no
-- cursor is needed. The views' SELECTs are placeholders filled from
-- footfall/stores/ch_views.py (MV_SELECTS): the rebuild runs the same text
-- over a site's stored events.
-- Bots are left out, as the stats leave them out.

-- Tables holding sketches have small granules: a read decodes every state of
-- each granule it touches, and a sketch is up to ~100 KB (8192-row granules
-- made a month's breakdown decode 250 MB of its neighbours' sketches).

-- Counters, unique-visitor states and the time of the latest insert per hour.
CREATE TABLE IF NOT EXISTS stats_hours (
    site String,
    hour Int64,
    last_insert AggregateFunction(max, DateTime),
    pageviews AggregateFunction(sum, UInt64),
    events AggregateFunction(count),
    requests AggregateFunction(sum, UInt64),
    bytes_sent AggregateFunction(sum, Int64),
    errors AggregateFunction(sum, UInt64),
    visitors AggregateFunction(uniqCombinedIf, String, UInt8)
) ENGINE = AggregatingMergeTree
PARTITION BY intDiv(hour, 768)
ORDER BY (site, hour)
SETTINGS index_granularity = 256;

-- Unique-visitor states per UTC day: a month's visitors merge 30 states, not 720.
CREATE TABLE IF NOT EXISTS stats_days (
    site String,
    day Int64,
    visitors AggregateFunction(uniqCombinedIf, String, UInt8)
) ENGINE = AggregatingMergeTree
ORDER BY (site, day)
SETTINGS index_granularity = 256;

-- One row per visit and hour it has events in: the recent ("live") hours'
-- visits are grouped from these instead of from raw events.
CREATE TABLE IF NOT EXISTS stats_visit_parts (
    site String,
    hour Int64,
    visit_id String,
    start AggregateFunction(min, Int64),
    end AggregateFunction(max, Int64),
    pageviews AggregateFunction(sum, UInt64),
    events AggregateFunction(count)
) ENGINE = AggregatingMergeTree
PARTITION BY intDiv(hour, 768)
ORDER BY (site, hour, visit_id);

-- Visit counters by the hour the visits started, written by the compaction
-- (footfall/stats/summaries/clickhouse_compact.py) once no insert can change them; the newest
-- computed_at of an hour wins.
CREATE TABLE IF NOT EXISTS stats_visit_hours (
    site String,
    hour Int64,
    computed_at DateTime,
    visits UInt64,
    bounces UInt64,
    duration Int64,
    pageviews UInt64,
    events UInt64
) ENGINE = ReplacingMergeTree(computed_at)
ORDER BY (site, hour);

-- Event-property breakdowns (page, hostname, name) per (site, hour, value),
-- written by the compaction like stats_visit_dims below: a view would cost
-- every insert a three-way ARRAY JOIN and GROUP BY.
CREATE TABLE IF NOT EXISTS stats_event_dims (
    site String,
    grain UInt8,
    hour Int64,
    dim String,
    value String,
    computed_at DateTime,
    pageviews UInt64,
    events UInt64,
    visitors AggregateFunction(uniqCombinedIf, String, UInt8)
) ENGINE = MergeTree
PARTITION BY intDiv(hour, 768)
ORDER BY (site, dim, grain, hour, value, computed_at)
SETTINGS index_granularity = 128;

-- Visit-property breakdowns by start hour. Both breakdown tables are written
-- by the same compaction as stats_visit_hours and read only with its
-- computed_at (so a computation is seen whole or not at all; older
-- computations stay until a rebuild). grain 0 rows are hours; grain 1 rows
-- (hour = the day's first hour) sum a UTC day the compaction covered whole,
-- so a month's sketches merge 30 states per value, not 720.
CREATE TABLE IF NOT EXISTS stats_visit_dims (
    site String,
    grain UInt8,
    hour Int64,
    dim String,
    value String,
    computed_at DateTime,
    visits UInt64,
    bounces UInt64,
    duration Int64,
    pageviews UInt64,
    events UInt64,
    visitors AggregateFunction(uniqCombinedIf, String, UInt8)
) ENGINE = MergeTree
PARTITION BY intDiv(hour, 768)
ORDER BY (site, dim, grain, hour, value, computed_at)
SETTINGS index_granularity = 128;

-- Sites whose summaries miss or over-count events (stored before this
-- migration, or deleted since): raw SQL answers until `footfall stats rebuild`.
CREATE TABLE IF NOT EXISTS stats_sites (
    site String,
    complete UInt8,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY site;

-- The compaction's watermark: inserts older than this are folded.
CREATE TABLE IF NOT EXISTS stats_state (
    key String,
    value Int64,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY key;

CREATE MATERIALIZED VIEW IF NOT EXISTS stats_hours_mv TO stats_hours AS {stats_hours};

CREATE MATERIALIZED VIEW IF NOT EXISTS stats_days_mv TO stats_days AS {stats_days};

CREATE MATERIALIZED VIEW IF NOT EXISTS stats_visit_parts_mv TO stats_visit_parts AS {stats_visit_parts};

INSERT INTO stats_sites (site, complete, version)
SELECT DISTINCT site, 0, toUInt64(now()) * 1000000 FROM events;
