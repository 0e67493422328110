"""Answer a query from the summaries (`stats_rollup`) when they can answer it exactly.

`summary_parts` returns the same "parts" (raw sums) as the SQL path, or None
when the summaries cannot answer: an event filter or goal, more than one
filter or a filter value list, wildcards, percentiles, bots, a site whose
summaries are incomplete or bucketed in another time zone, a pair of
dimensions that is not materialised. The engine then falls back to raw SQL.

A period of whole local days is read from `d` rows (hourly series from `h`
rows, site totals only); visitors are sketch unions (`sketches.py`), with
whole months unioned once and cached. ClickHouse's summaries are read by
`clickhouse_read.py`.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import date, datetime, timedelta
from typing import Any

from footfall.columns import SUMMARISED_EVENT_PROPERTIES
from footfall.stats.model import Query, bucket_label
from footfall.stats.sql import plan
from footfall.stats.summaries.dimensions import CROSS_DIMS, FILTER_DIMS, NO_SKETCH, VISIT_DIMS
from footfall.stats.summaries.qmark import run
from footfall.stats.summaries.sketches import visitors_of
from footfall.stores.base import SUMMARIES_FOLDED, Store
from footfall.stores.rows import to_micros

__all__ = ["SUMMARY_DIALECTS", "summary_parts", "why_not"]

# The stats dialects of the stores the catch-up keeps summaries in (their raw SQL
# reads visits from `stats_visits` when the site is complete).
SUMMARY_DIALECTS = frozenset({"sqlite", "postgres"})

_EPOCH = date(1970, 1, 1)
ESTIMATE_CACHE_SIZE = 20_000
_ESTIMATES: OrderedDict[tuple[Any, ...], int] = OrderedDict()
_EVENT_PROP_DIMS = {f"event:{p.name}": p.name for p in SUMMARISED_EVENT_PROPERTIES}
_EVENT_ROW_METRICS = {"visitors", "pageviews", "events"}
_VISIT_ROW_METRICS = {
    "visitors",
    "pageviews",
    "events",
    "visits",
    "views_per_visit",
    "bounce_rate",
    "visit_duration",
}
_TOTAL_METRICS = _VISIT_ROW_METRICS | {"requests", "bytes", "error_rate"}
_COLS = "r.visits, r.bounces, r.duration, r.pageviews, r.events, r.requests, r.bytes, r.errors"


def _dim_of(q: Query) -> tuple[str, str, bool, str | None] | str:
    """(dim, fvalue, visit_rows, value) for the query, or why it cannot be summarised."""
    if q.goals or q.event_filters:
        return "event filters and goals need raw events"
    if len(q.visit_filters) > 1:
        return "more than one filter"
    f = q.visit_filters[0] if q.visit_filters else None
    if f is not None:
        if f.op != "is" or len(f.values) != 1 or f.is_wildcard(f.values[0]):
            return "only a single `==` value filter is summarised"
        fdim = f.prop.column
        if fdim not in VISIT_DIMS:
            return f"{f.prop.name} is not summarised"
    prop = q.prop
    if prop is None:
        return ("", "", False, None) if f is None else (f.prop.column, "", True, f.values[0])
    if prop.is_visit:
        b, visit_rows = prop.column, True
        if b not in VISIT_DIMS:
            return f"{prop.name} is not summarised"
    else:
        if prop.name not in _EVENT_PROP_DIMS:
            return f"{prop.name} is not summarised"
        b, visit_rows = _EVENT_PROP_DIMS[prop.name], False
    if f is None:
        return (b, "", visit_rows, None)
    if prop.is_visit and b == f.prop.column:  # breakdown by the filtered property itself
        return (b, "", True, f.values[0])
    if f.prop.column not in FILTER_DIMS or b not in CROSS_DIMS or b == f.prop.column:
        return f"{f.prop.name} with {prop.name} is not summarised"
    return (f"{f.prop.column}|{b}", f.values[0], visit_rows, None)


def why_not(q: Query) -> str | None:
    """None if the summaries can answer `q` (ignoring site state), else why not."""
    if q.include_bots:
        return "bots are only in raw events"
    found = _dim_of(q)
    if isinstance(found, str):
        return found
    dim, _, visit_rows, _ = found
    if q.event_scope and visit_rows:
        # Visit rows count the visitors of visits; the query counts those of events.
        return "visitors over events with a visit filter need raw events"
    wanted = set(q.metrics)
    if dim == "":
        allowed = _TOTAL_METRICS
    elif visit_rows:
        allowed = _VISIT_ROW_METRICS
        if dim.endswith(NO_SKETCH) and "visitors" in wanted and q.prop is None:
            return "a visitors series filtered by exit page needs raw events"
    else:
        allowed = _EVENT_ROW_METRICS
    if not wanted <= allowed:
        return f"{', '.join(sorted(wanted - allowed))} not summarised for this query"
    if q.interval == "hour" and q.prop is None and dim != "":
        return "hourly series are summarised for site totals only"
    return None


def _site_ready(store: Store, q: Query) -> bool:
    rows = run(store, "SELECT tz, complete FROM stats_sites WHERE site = ?", (q.site,))
    return bool(rows) and rows[0][0] == q.tz and bool(rows[0][1])


def _day(d: date) -> int:
    return (d - _EPOCH).days


def _label(q: Query, grain: str, bucket: int) -> str:
    if grain == "h":
        return bucket_label(datetime(1970, 1, 1) + timedelta(hours=bucket), "hour")
    return bucket_label(_EPOCH + timedelta(days=bucket), q.interval)


def _range(q: Query, hourly: bool) -> tuple[str, int, int]:
    if hourly:
        return "h", _day(q.first) * 24, (_day(q.last) + 1) * 24 - 1
    return "d", _day(q.first), _day(q.last)


def _fetch(
    store: Store, q: Query, dim: str, fvalue: str, hourly: bool, values: list[str] | None
) -> list[tuple[Any, ...]]:
    if values == []:
        return []  # no candidate value (PostgreSQL refuses an empty `IN ()`)
    grain, lo, hi = _range(q, hourly)
    params: list[Any] = [q.site, dim, fvalue, grain, lo, hi]
    where = ""
    if values is not None:
        where = f" AND r.value IN ({','.join('?' * len(values))})"
        params += values
    sql = (
        f"SELECT r.grain, r.bucket, r.value, {_COLS} FROM stats_rollup r"  # noqa: S608
        f" WHERE r.site = ? AND r.dim = ? AND r.fvalue = ? AND r.grain = ?"
        f" AND r.bucket BETWEEN ? AND ?{where}"
    )
    rows: list[tuple[Any, ...]] = run(store, sql, params)
    return rows


def _candidates(store: Store, q: Query, dim: str, fvalue: str, visit_rows: bool) -> list[str]:
    """Values worth a sketch union: the top ones by an exact counter (breakdowns)."""
    counter = {
        "pageviews": "pageviews",
        "events": "events",
        "visits": "visits",
        "bounce_rate": "visits",
        "visit_duration": "visits",
        "views_per_visit": "visits",
    }.get(q.metrics[0], "visits" if visit_rows else "events")
    sql = (
        f"SELECT value FROM stats_rollup WHERE site = ? AND dim = ? AND fvalue = ?"  # noqa: S608
        " AND grain = 'd' AND bucket BETWEEN ? AND ?"
        # A value whose counters went back to 0 (a visit's exit page moved on) is gone.
        f" GROUP BY value HAVING SUM({'visits' if visit_rows else 'events'}) > 0"
        f" ORDER BY SUM({counter}) DESC, value LIMIT ?"
    )
    keep = q.page * q.limit + 10
    params = (q.site, dim, fvalue, _day(q.first), _day(q.last), keep)
    return [r[0] for r in run(store, sql, params)]


_EVENT_PARTS = ("pageviews", "events", "requests", "bytes", "errors")
_VISIT_PARTS = ("visits", "bounces", "duration", "v_pageviews", "v_events")


def _aggregate(
    store: Store, q: Query, dim: str, fvalue: str, hourly: bool, values: list[str] | None, by: str
) -> list[tuple[Any, ...]]:
    """Counter sums in SQL, grouped by `by` ("''", "r.value" or "r.bucket"), plus a row count."""
    if values == []:
        return []  # no candidate value (PostgreSQL refuses an empty `IN ()`)
    grain, lo, hi = _range(q, hourly)
    params: list[Any] = [q.site, dim, fvalue, grain, lo, hi]
    where = ""
    if values is not None:
        where = f" AND r.value IN ({','.join('?' * len(values))})"
        params += values
    sums = ", ".join(f"SUM({c})" for c in _COLS.split(", "))
    sql = (
        f"SELECT {by}, {sums}, COUNT(*) FROM stats_rollup r"  # noqa: S608 - fixed names
        " WHERE r.site = ? AND r.dim = ? AND r.fvalue = ? AND r.grain = ?"
        f" AND r.bucket BETWEEN ? AND ?{where} GROUP BY 1"
    )
    rows: list[tuple[Any, ...]] = run(store, sql, params)
    return rows


def _open_visitors(store: Store, q: Query, values: list[str]) -> dict[str, set[str]]:
    """Visitors of still-open visits by exit page (closed ones are in the sketches).
    `+start_ts` keeps SQLite on the (site, closed, end_ts) index: open visits are few."""
    start, end = q.utc_range()
    marks = ",".join("?" * len(values))
    rows = run(
        store,
        "SELECT exit_page, visitor_id FROM stats_visits WHERE site = ? AND closed = 0"  # noqa: S608
        f" AND +start_ts >= ? AND +start_ts < ? AND visitor_id <> '' AND exit_page IN ({marks})",
        (q.site, to_micros(start), to_micros(end), *values),
    )
    found: dict[str, set[str]] = {}
    for value, visitor in rows:
        found.setdefault(value, set()).add(visitor)
    return found


def summary_parts(store: Store, q: Query, group: str) -> dict[str, dict[str, Any]] | None:
    """Parts per group ("" / bucket label / value) from the summaries, or None.

    Counters are summed in SQL. A group's visitors estimate is cached under its
    counter sums: the same rows with the same sums hold the same visitors (any new
    event changes `events`), so only a cache miss reads and unions sketches.
    """
    if store.summaries != SUMMARIES_FOLDED or why_not(q) is not None:
        return None
    if not _site_ready(store, q):
        return None
    found = _dim_of(q)
    assert not isinstance(found, str)
    dim, fvalue, visit_rows, only = found
    if group == "prop" and (q.prop is None or dim == ""):
        return None
    values = _candidates(store, q, dim, fvalue, visit_rows) if group == "prop" else None
    if only is not None:
        values = [only]
    hourly = group == "bucket" and q.interval == "hour"
    grain = "h" if hourly else "d"
    by = "''" if group == "total" else "r.value" if group == "prop" else "r.bucket"
    sources = [("", False), ("visit", True)] if dim == "" else [(dim, visit_rows)]
    want_visit = plan(q).need_visit_sql or dim != ""
    want_sketch = "visitors" in q.metrics or "conversion_rate" in q.metrics
    acc: dict[str, dict[str, Any]] = {}
    for source_dim, is_visit in sources:
        if source_dim == "visit" and not want_visit:
            continue
        names = _VISIT_PARTS if is_visit else _EVENT_PARTS
        versions: dict[str, list[tuple[Any, ...]]] = {}
        for row in _aggregate(store, q, source_dim, fvalue, hourly, values, by):
            key = row[0] if group != "bucket" else _label(q, grain, row[0])
            parts = acc.setdefault(key, {})
            counters = row[1:6] if is_visit else row[4:9]
            for name, v in zip(names, counters, strict=True):
                parts[name] = parts.get(name, 0) + (v or 0)
            versions.setdefault(key, []).append(row)
        if not want_sketch:
            continue
        where = (store.location, q.site, source_dim, fvalue, grain, _range(q, hourly))
        target = "v_visitors" if is_visit else "visitors"
        missing: dict[str, tuple[Any, ...]] = {}
        for key, rows in versions.items():
            version = (*where, key, tuple(rows))
            estimate = _ESTIMATES.get(version)
            if estimate is None:
                missing[key] = version
            else:
                acc[key][target] = estimate
        if not missing:
            continue
        grouped: dict[str, list[tuple[Any, ...]]] = {}
        wanted = [k for k in missing] if group == "prop" else values
        for row in _fetch(store, q, source_dim, fvalue, hourly, wanted):
            key = "" if group == "total" else row[2] if group == "prop" else _label(q, *row[:2])
            if key in missing:
                grouped.setdefault(key, []).append(row)
        extra = _open_visitors(store, q, list(missing)) if source_dim.endswith(NO_SKETCH) else None
        estimates = visitors_of(
            store, q.site, source_dim, fvalue, grain, grouped, _day(q.first), _day(q.last), extra
        )
        for key, version in missing.items():
            _ESTIMATES[version] = acc[key][target] = estimates.get(key, 0)
        while len(_ESTIMATES) > ESTIMATE_CACHE_SIZE:
            _ESTIMATES.popitem(last=False)
    return acc
