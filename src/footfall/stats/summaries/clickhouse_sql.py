# ruff: noqa: S608 - fixed table and column names; every value is a driver parameter
"""The SQL of ClickHouse's stats summaries beyond the views, valid on 18.16 and current.

The materialized views of migration 0002 (`footfall.stores.ch_views`) fill
`stats_hours`, `stats_days` and `stats_visit_parts` as blocks are inserted.
Visit counters need whole visits, which no single block holds, so
`stats_visit_hours` and the breakdown tables are written later by the
compaction (`clickhouse_compact.py`) and read only while no insert since
could have changed them (`clickhouse_read.py`). Everything here is what those
two run.

Placeholders are clickhouse-driver's `%(name)s`. No alias equals an `events`
column: ClickHouse aliases are query-wide, and `sumState(bytes) AS bytes`
would read its own alias.
"""

from __future__ import annotations

from footfall.columns import (
    PAGE_VISIT_PROPERTIES,
    SUMMARISED_EVENT_PROPERTIES,
    SUMMARISED_VISIT_PROPERTIES,
)
from footfall.stores.ch_views import VIEW_TABLES

__all__ = [
    "COMPACT_DIMS",
    "COMPACT_EVENTS",
    "COMPACT_EVENT_DIMS",
    "COMPACT_VISITS",
    "DAY_US",
    "DIM_LIVE",
    "DIM_STORED",
    "DIM_TABLES",
    "EVENT_DIMS",
    "EVENT_DIM_LIVE",
    "EVENT_DIM_STORED",
    "HOUR_ROWS",
    "HOUR_US",
    "LIVE_VISITS",
    "MARK_SITES",
    "NEWEST_MARK",
    "PENDING_MARKS",
    "PURGED",
    "SERVER_NOW",
    "SITE_COMPLETE",
    "SITE_EVENTS",
    "SITE_SPAN",
    "STATE_GET",
    "STATE_SET",
    "SUMMARY_TABLES",
    "VIEWS_PRESENT",
    "VISIT_DIMS",
    "VISIT_ROWS",
    "VISIT_SOURCES",
    "days_present_sql",
    "event_dim_sql",
    "roll_days_sql",
    "visit_dim_sql",
    "visitors_sql",
]

HOUR_US = 3_600_000_000
DAY_US = 86_400_000_000

# Event properties the compaction breaks down by: Property.column -> dim.
EVENT_DIMS = {p.column: p.name for p in SUMMARISED_EVENT_PROPERTIES}
# Visit properties the compaction breaks down by.
VISIT_DIMS = (*PAGE_VISIT_PROPERTIES, *(p.name for p in SUMMARISED_VISIT_PROPERTIES))
# Every table a site's summaries live in (the rebuild clears them for the site).
SUMMARY_TABLES = (*VIEW_TABLES, "stats_visit_hours", "stats_visit_dims", "stats_event_dims")


# Per hour of [lo, hi): newest insert (unix seconds) and the event counters.
HOUR_ROWS = (
    "SELECT hour, toUInt32(maxMerge(last_insert)), countMerge(events), sumMerge(pageviews),"
    " sumMerge(requests), sumMerge(bytes_sent), sumMerge(errors) FROM stats_hours"
    " WHERE site = %(site)s AND hour >= %(lo)s AND hour < %(hi)s GROUP BY hour"
)
# The compacted visit counters of [lo, hi), newest computation per hour.
VISIT_ROWS = (
    "SELECT hour, toUInt32(max(computed_at)), argMax(visits, computed_at),"
    " argMax(bounces, computed_at), argMax(duration, computed_at),"
    " argMax(pageviews, computed_at), argMax(events, computed_at) FROM stats_visit_hours"
    " WHERE site = %(site)s AND hour >= %(lo)s AND hour < %(hi)s GROUP BY hour"
)
# Hours holding an insert at or after %(since)s (unix seconds), every site.
PENDING_MARKS = (
    "SELECT site, hour, toUInt32(maxMerge(last_insert)) AS at FROM stats_hours"
    " GROUP BY site, hour HAVING at >= %(since)s"
)
NEWEST_MARK = f"SELECT toUInt32(max(at)) FROM ({PENDING_MARKS})"
# Visit counters by start hour, grouped from the visit parts of [plo, phi)
# (hours), for visits that started in [slo, shi) (microseconds). The same
# definitions as the raw SQL: a bounce is one page view and nothing else.
LIVE_VISITS = (
    "SELECT intDiv(s, 3600000000) AS h, count(), sum(pv = 1 AND n = 1), sum(e - s), sum(pv),"
    " sum(n) FROM (SELECT visit_id, minMerge(start) AS s, maxMerge(end) AS e,"
    " sumMerge(pageviews) AS pv, countMerge(events) AS n FROM stats_visit_parts"
    " WHERE site = %(site)s AND hour >= %(plo)s AND hour < %(phi)s GROUP BY visit_id)"
    " WHERE s >= %(slo)s AND s < %(shi)s GROUP BY h"
)
# The compaction: a row for every hour of [h0, h0 + n), zeros where no visit
# started, from `{visits}` (the stats dialect's visit grouping over raw events).
COMPACT_VISITS = (
    "INSERT INTO stats_visit_hours"
    " (site, hour, computed_at, visits, bounces, duration, pageviews, events)"
    " SELECT %(site)s, h, toDateTime(%(at)s), sum(v), sum(b), sum(d), sum(pv), sum(n) FROM ("
    "SELECT toInt64(%(h0)s + arrayJoin(range(%(n)s))) AS h, toUInt64(0) AS v,"
    " toUInt64(0) AS b, toInt64(0) AS d, toUInt64(0) AS pv, toUInt64(0) AS n"
    " UNION ALL SELECT toInt64(intDiv(start_ts, 3600000000)) AS h, toUInt64(count()) AS v,"
    " toUInt64(sum(pageviews = 1 AND events = 1)) AS b, toInt64(sum(end_ts - start_ts)) AS d,"
    " toUInt64(sum(pageviews)) AS pv, toUInt64(sum(events)) AS n FROM ({visits})"
    " WHERE start_ts >= %(slo)s AND start_ts < %(shi)s GROUP BY h"
    ") GROUP BY h"
)
# The raw events a compaction groups into visits (a day either side, as the raw SQL),
# with the event columns the summarised visit properties come from.
_VISIT_READS = ("id", "ts", "name", "path", "visit_id", "visitor_id")
VISIT_SOURCES = ", ".join(sorted({p.source for p in SUMMARISED_VISIT_PROPERTIES} - {*_VISIT_READS}))
COMPACT_EVENTS = (
    f"(SELECT {', '.join(_VISIT_READS)}, {VISIT_SOURCES} FROM events"
    " WHERE site = %(site)s AND ts >= %(elo)s AND ts < %(ehi)s AND is_bot = 0)"
)
_DIM_PAIRS = ", ".join(f"('{d}', {d})" for d in VISIT_DIMS)  # fixed names
# Per start hour, property and value: the visits' counters and visitors.
_DIM_COUNTERS = (
    "toUInt64(count()) AS v, toUInt64(sum(pageviews = 1 AND events = 1)) AS b,"
    " toInt64(sum(end_ts - start_ts)) AS d, toUInt64(sum(pageviews)) AS pv,"
    " toUInt64(sum(events)) AS n, uniqCombinedIfState(visitor_id, visitor_id != '') AS vis"
)
COMPACT_DIMS = (
    "INSERT INTO stats_visit_dims (site, grain, hour, dim, value, computed_at, visits, bounces,"
    " duration, pageviews, events, visitors)"
    " SELECT %(site)s, 0, h, k.1 AS dim, k.2 AS value, toDateTime(%(at)s) AS at,"
    f" {_DIM_COUNTERS} FROM (SELECT *, intDiv(start_ts, 3600000000) AS h FROM ({{visits}}))"
    f" ARRAY JOIN [{_DIM_PAIRS}] AS k"
    " WHERE start_ts >= %(slo)s AND start_ts < %(shi)s GROUP BY h, dim, value"
)
# One property's values over the range: compacted hours (at their computation)
# plus the live hours grouped from raw events (`{visits}`, `{column}`).
# Two compactions in one second write the same rows twice, so the counters
# are taken once per row key (`any`). The sketches are not: merging a sketch
# twice changes nothing, and `any` over a sketch column copies every state
# (2-3x the time of the merge itself at 10M events), so they come in a branch
# of their own, merged straight from the rows. The key range (grains, hours)
# prunes by the index; PREWHERE reads the sketches only of the rows picked.
_STORED_ROWS = (
    " PREWHERE (grain, hour, toUInt32(computed_at)) IN %(triples)s"
    " WHERE site = %(site)s AND dim = %(dim)s AND grain IN %(grains)s"
    " AND hour >= %(hlo)s AND hour <= %(hhi)s"
)
# An empty sketch of the stored type: the counters' branch adds no visitor.
_NO_VISITORS = "arrayReduce('uniqCombinedIfState', [''], [toUInt8(0)])"
DIM_STORED = (
    "SELECT value, any(visits) AS v, any(bounces) AS b, any(duration) AS d,"
    f" any(pageviews) AS pv, any(events) AS n, {_NO_VISITORS} AS vis FROM stats_visit_dims"
    f"{_STORED_ROWS} GROUP BY grain, hour, value"
    " UNION ALL SELECT value, toUInt64(0), toUInt64(0), toInt64(0), toUInt64(0), toUInt64(0),"
    f" visitors FROM stats_visit_dims{_STORED_ROWS}"
)
DIM_LIVE = (
    f"SELECT {{column}} AS value, {_DIM_COUNTERS} FROM ({{visits}})"
    " WHERE has(%(live)s, intDiv(start_ts, 3600000000)) GROUP BY value"
)


def visit_dim_sql(stored: bool, live: str | None) -> str:
    """Counters and visitors per value of one visit property; `live` is the
    filled-in DIM_LIVE, or None when every hour is compacted."""
    parts = ([DIM_STORED] if stored else []) + ([live] if live else [])
    return (
        "SELECT value, sum(v), sum(b), sum(d), sum(pv), sum(n), uniqCombinedIfMerge(vis)"
        f" FROM ({' UNION ALL '.join(parts)}) GROUP BY value"
    )


_EVENT_PAIRS = ", ".join(f"('{d}', {c})" for c, d in EVENT_DIMS.items())  # fixed names
_EVENT_COUNTERS = (
    "toUInt64(countIf(name = 'pageview')) AS pv, toUInt64(count()) AS n,"
    " uniqCombinedIfState(visitor_id, visitor_id != '') AS vis"
)
COMPACT_EVENT_DIMS = (
    "INSERT INTO stats_event_dims (site, grain, hour, dim, value, computed_at, pageviews,"
    " events, visitors) SELECT %(site)s, 0, intDiv(ts, 3600000000) AS h, k.1 AS dim,"
    " k.2 AS value,"
    f" toDateTime(%(at)s) AS at, {_EVENT_COUNTERS} FROM events ARRAY JOIN [{_EVENT_PAIRS}] AS k"
    " WHERE site = %(site)s AND ts >= %(slo)s AND ts < %(shi)s AND is_bot = 0"
    " GROUP BY h, dim, value"
)
# As DIM_STORED: counters once per row key, sketches merged from the rows.
EVENT_DIM_STORED = (
    f"SELECT value, any(pageviews) AS pv, any(events) AS n, {_NO_VISITORS} AS vis"
    f" FROM stats_event_dims{_STORED_ROWS} GROUP BY grain, hour, value"
    " UNION ALL SELECT value, toUInt64(0), toUInt64(0), visitors"
    f" FROM stats_event_dims{_STORED_ROWS}"
)
_DIM_COUNTER_COLUMNS = {
    "stats_visit_dims": ("visits", "bounces", "duration", "pageviews", "events"),
    "stats_event_dims": ("pageviews", "events"),
}
DIM_TABLES = tuple(_DIM_COUNTER_COLUMNS)


def roll_days_sql(table: str) -> str:
    """Day rows (grain 1) from one computation's hour rows of the whole UTC days
    in [%(d0)s, %(d1)s): counters summed, sketches merged (each hour row once)."""
    cols = _DIM_COUNTER_COLUMNS[table]
    inner = ", ".join(f"any({c}) AS a_{c}" for c in cols)
    sums = ", ".join(f"sum(a_{c})" for c in cols)
    return (
        f"INSERT INTO {table} (site, grain, hour, dim, value, computed_at, {', '.join(cols)},"
        f" visitors) SELECT site, 1, intDiv(hour, 24) * 24 AS day_hour, dim, value,"
        f" computed_at, {sums}, uniqCombinedIfMergeState(a_visitors) FROM ("
        f"SELECT site, hour, dim, value, computed_at, {inner}, any(visitors) AS a_visitors"
        f" FROM {table} WHERE site = %(site)s AND grain = 0"
        " AND computed_at = toDateTime(%(at)s) AND hour >= %(d0)s AND hour < %(d1)s"
        " GROUP BY site, hour, dim, value, computed_at"
        ") GROUP BY site, day_hour, dim, value, computed_at"
    )


def days_present_sql(table: str) -> str:
    """Which of %(days)s ((first hour, computed_at) pairs) have day rows in `table`."""
    if table not in _DIM_COUNTER_COLUMNS:
        raise ValueError(f"not a breakdown table: {table!r}")
    return (
        f"SELECT DISTINCT hour FROM {table} WHERE site = %(site)s AND dim = %(dim)s"
        " AND grain = 1 AND (hour, toUInt32(computed_at)) IN %(days)s"
    )


EVENT_DIM_LIVE = (
    f"SELECT {{column}} AS value, {_EVENT_COUNTERS} FROM events"
    " WHERE site = %(site)s AND ts >= %(elo)s AND ts < %(ehi)s AND is_bot = 0"
    " AND has(%(live)s, intDiv(ts, 3600000000)) GROUP BY value"
)


def event_dim_sql(stored: bool, live: bool) -> str:
    """Page views, events and visitors per value of one event property."""
    parts = ([EVENT_DIM_STORED] if stored else []) + ([EVENT_DIM_LIVE] if live else [])
    return (
        "SELECT value, sum(n), sum(pv), uniqCombinedIfMerge(vis)"
        f" FROM ({' UNION ALL '.join(parts)}) GROUP BY value"
    )


def visitors_sql(days: bool, hours: bool) -> str:
    """Unique visitors per bucket number: day sketches for the UTC days a bucket
    holds whole (`%(days)s` -> `%(day_b)s`), hour sketches for the rest."""
    parts = []
    if days:
        parts.append(
            "SELECT arrayElement(%(day_b)s, indexOf(%(days)s, day)) AS b, visitors AS v"
            " FROM stats_days WHERE site = %(site)s AND day >= %(dlo)s AND day <= %(dhi)s"
            " AND indexOf(%(days)s, day) > 0"
        )
    if hours:
        parts.append(
            "SELECT arrayElement(%(hour_b)s, indexOf(%(hours)s, hour)) AS b, visitors AS v"
            " FROM stats_hours WHERE site = %(site)s AND hour >= %(hlo)s AND hour <= %(hhi)s"
            " AND indexOf(%(hours)s, hour) > 0"
        )
    return f"SELECT b, uniqCombinedIfMerge(v) FROM ({' UNION ALL '.join(parts)}) GROUP BY b"


# Completeness (ReplacingMergeTree by version: the newest row per site counts).
SITE_COMPLETE = (
    "SELECT argMax(complete, version) FROM stats_sites WHERE site = %(site)s GROUP BY site"
)
# How many of the views exist (another store object may have dropped them:
# `summaries=off`), and the purge cut-offs (unix microseconds) for the site.
VIEWS_PRESENT = (
    "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name IN %(views)s"
)
PURGED = (
    "SELECT max(value) FROM (SELECT key, argMax(value, version) AS value FROM stats_state"
    " WHERE key IN %(keys)s GROUP BY key)"
)
MARK_SITES = (
    "INSERT INTO stats_sites (site, complete, version)"
    " SELECT arrayJoin(%(sites)s), %(complete)s, %(version)s"
)
STATE_GET = "SELECT argMax(value, version) FROM stats_state WHERE key = %(key)s GROUP BY key"
STATE_SET = "INSERT INTO stats_state (key, value, version) SELECT %(key)s, %(value)s, %(version)s"
SERVER_NOW = "SELECT toUInt32(now())"
SITE_SPAN = "SELECT min(hour), max(hour), countMerge(events) FROM stats_hours WHERE site = %(site)s"
SITE_EVENTS = "SELECT count() FROM events WHERE site = %(site)s"
