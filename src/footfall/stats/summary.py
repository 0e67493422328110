"""Answer a query from the summaries (`stats_rollup`) when they can answer it exactly.

`summary_parts` returns the same "parts" (raw sums) as the SQL path, or None
when the summaries cannot answer: an event filter or goal, more than one
filter or a filter value list, wildcards, percentiles, bots, a site whose
summaries are incomplete or bucketed in another time zone, a pair of
dimensions that is not materialised. The engine then falls back to raw SQL.

A period of whole local days is read as whole local months (`m` rows) plus
the remaining days (`d` rows); hourly series read `h` rows (site totals).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import datasketches as ds

from footfall.stats.model import Query
from footfall.stats.rollup import (
    CROSS_DIMS,
    EVENT_DIMS,
    FILTER_DIMS,
    LG_K,
    NO_SKETCH,
    VISIT_DIMS,
    month_of_day,
)
from footfall.stats.sql import plan

__all__ = ["summary_parts", "why_not"]

_EPOCH = date(1970, 1, 1)
_EVENT_PROP_DIMS = {"event:page": "page", "event:name": "name", "event:hostname": "hostname"}
_EVENT_ROW_METRICS = {"visitors", "pageviews", "events"}
_VISIT_ROW_METRICS = {"visitors", "pageviews", "events", "visits", "views_per_visit", "bounce_rate", "visit_duration"}
_TOTAL_METRICS = _VISIT_ROW_METRICS | {"requests", "bytes", "error_rate"}
_COLS = "visits, bounces, duration, pageviews, events, requests, bytes, errors"


def _dim_of(q: Query) -> tuple[str, str, bool] | str:
    """(dim, fvalue, visit_rows) for the query, or the reason it cannot be summarised."""
    if q.goal is not None or q.event_filters:
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
        if f is None:
            return ("", "", False)
        return (f.prop.column, "", True) if f else ("", "", False)
    if prop.is_visit:
        b, visit_rows = prop.column, True
        if b not in VISIT_DIMS:
            return f"{prop.name} is not summarised"
    else:
        if prop.name not in _EVENT_PROP_DIMS:
            return f"{prop.name} is not summarised"
        b, visit_rows = _EVENT_PROP_DIMS[prop.name], False
    if f is None:
        return (b, "", visit_rows)
    if f.prop.column not in FILTER_DIMS or b not in CROSS_DIMS or b == f.prop.column:
        return f"{f.prop.name} with {prop.name} is not summarised"
    return (f"{f.prop.column}|{b}", f.values[0], visit_rows)


def why_not(q: Query) -> str | None:
    """None if the summaries can answer `q` (ignoring site state), else why not."""
    if q.include_bots:
        return "bots are only in raw events"
    found = _dim_of(q)
    if isinstance(found, str):
        return found
    dim, _, visit_rows = found
    wanted = set(q.metrics)
    if dim == "":
        allowed = _TOTAL_METRICS
    elif visit_rows:
        allowed = _VISIT_ROW_METRICS
        if dim.endswith(NO_SKETCH) and "visitors" in wanted:
            return "visitors by exit page need raw events"
    else:
        allowed = _EVENT_ROW_METRICS
    if not wanted <= allowed:
        return f"{', '.join(sorted(wanted - allowed))} not summarised for this query"
    if q.interval == "hour" and q.prop is None and dim != "":
        return "hourly series are summarised for site totals only"
    return None


def _site_ready(store: Any, q: Query) -> bool:
    rows = store.query("SELECT tz, complete FROM stats_sites WHERE site = ?", (q.site,))
    return bool(rows) and rows[0][0] == q.tz and bool(rows[0][1])


def _day(d: date) -> int:
    return (d - _EPOCH).days


def _pieces(q: Query, by_day: bool) -> tuple[list[int], list[tuple[int, int]]]:
    """Whole months inside the range, and the remaining (first, last) day-number ranges."""
    first, last = _day(q.first), _day(q.last)
    if by_day:
        return [], [(first, last)]
    months: list[int] = []
    ranges: list[tuple[int, int]] = []
    d = first
    while d <= last:
        m = month_of_day(d)
        start_of_month = d == 0 or month_of_day(d - 1) != m
        end = d
        while end + 1 <= last and month_of_day(end + 1) == m:
            end += 1
        end_of_month = month_of_day(end + 1) != m
        if start_of_month and end_of_month:
            months.append(m)
        elif ranges and ranges[-1][1] == d - 1:
            ranges[-1] = (ranges[-1][0], end)
        else:
            ranges.append((d, end))
        d = end + 1
    return months, ranges


def _label(q: Query, grain: str, bucket: int) -> str:
    if grain == "h":
        return (datetime(1970, 1, 1) + timedelta(hours=bucket)).strftime("%Y-%m-%d %H:00:00")
    if grain == "m":
        return date(bucket // 12, bucket % 12 + 1, 1).isoformat()
    d = _EPOCH + timedelta(days=bucket)
    if q.interval == "week":
        return (d - timedelta(days=d.weekday())).isoformat()
    if q.interval == "month":
        return d.replace(day=1).isoformat()
    return d.isoformat()


def _fetch(
    store: Any, q: Query, dim: str, fvalue: str, group: str, values: list[str] | None
) -> list[tuple[Any, ...]]:
    params: list[Any] = [q.site, dim, fvalue]
    if group == "bucket" and q.interval == "hour":
        lo = _day(q.first) * 24
        hi = (_day(q.last) + 1) * 24
        where = "grain = 'h' AND bucket >= ? AND bucket < ?"
        params += [lo, hi]
    else:
        months, ranges = _pieces(q, by_day=group == "bucket" and q.interval != "month")
        ors = []
        if months:
            ors.append(f"(grain = 'm' AND bucket IN ({','.join('?' * len(months))}))")
            params += months
        for a, b in ranges:
            ors.append("(grain = 'd' AND bucket BETWEEN ? AND ?)")
            params += [a, b]
        where = "(" + " OR ".join(ors) + ")"
    if values is not None:
        where += f" AND value IN ({','.join('?' * len(values))})"
        params += values
    sql = (
        f"SELECT grain, bucket, value, {_COLS}, visitors FROM stats_rollup"  # noqa: S608
        f" WHERE site = ? AND dim = ? AND fvalue = ? AND {where}"
    )
    return store.query(sql, params)


def _candidates(store: Any, q: Query, dim: str, fvalue: str, visit_rows: bool) -> list[str]:
    """Values worth a sketch union: the top ones by an exact counter (breakdowns)."""
    first = q.metrics[0]
    counter = {
        "pageviews": "pageviews",
        "events": "events",
        "visits": "visits",
        "bounce_rate": "visits",
        "visit_duration": "visits",
        "views_per_visit": "visits",
    }.get(first, "visits" if visit_rows else "events")
    months, ranges = _pieces(q, by_day=False)
    ors, params = [], [q.site, dim, fvalue]
    if months:
        ors.append(f"(grain = 'm' AND bucket IN ({','.join('?' * len(months))}))")
        params += months
    for a, b in ranges:
        ors.append("(grain = 'd' AND bucket BETWEEN ? AND ?)")
        params += [a, b]
    keep = q.page * q.limit * 2 + 20
    sql = (
        f"SELECT value FROM stats_rollup WHERE site = ? AND dim = ? AND fvalue = ?"  # noqa: S608
        f" AND ({' OR '.join(ors)}) GROUP BY value ORDER BY SUM({counter}) DESC, value LIMIT ?"
    )
    return [r[0] for r in store.query(sql, [*params, keep])]


def summary_parts(store: Any, q: Query, group: str) -> dict[str, dict[str, Any]] | None:
    """Parts per group ("" / bucket label / value) from the summaries, or None."""
    if getattr(store, "dialect", "") != "sqlite" or why_not(q) is not None:
        return None
    if not _site_ready(store, q):
        return None
    found = _dim_of(q)
    assert not isinstance(found, str)
    dim, fvalue, visit_rows = found
    if group == "prop" and q.prop is None:
        return None
    values = _candidates(store, q, dim, fvalue, visit_rows) if group == "prop" else None
    if dim == "":  # site totals: event rows "" and visit rows "visit"
        sources = [("", False), ("visit", True)]
    else:
        sources = [(dim, visit_rows)]
    if dim == "" and group == "prop":
        return None
    acc: dict[str, dict[str, Any]] = {}
    sketches: dict[tuple[str, bool], list[bytes]] = {}
    wanted_visit = plan(q).need_visit_sql or dim != ""
    for source_dim, is_visit in sources:
        if is_visit and source_dim == "visit" and not wanted_visit:
            continue
        for row in _fetch(store, q, source_dim, fvalue, group, values):
            grain, bucket, value = row[0], row[1], row[2]
            key = "" if group == "total" else value if group == "prop" else _label(q, grain, bucket)
            parts = acc.setdefault(key, {})
            visits, bounces, duration, pv, ev, req, nbytes, errs, blob = row[3:]
            if is_visit:
                for name, v in (
                    ("visits", visits),
                    ("bounces", bounces),
                    ("duration", duration),
                    ("v_pageviews", pv),
                    ("v_events", ev),
                ):
                    parts[name] = parts.get(name, 0) + v
            else:
                for name, v in (
                    ("pageviews", pv),
                    ("events", ev),
                    ("requests", req),
                    ("bytes", nbytes),
                    ("errors", errs),
                ):
                    parts[name] = parts.get(name, 0) + v
            if blob is not None:
                sketches.setdefault((key, is_visit), []).append(blob)
    if "visitors" in q.metrics or "conversion_rate" in q.metrics:
        for (key, is_visit), blobs in sketches.items():
            acc[key]["v_visitors" if is_visit else "visitors"] = _estimate(blobs)
    return acc


def _estimate(blobs: list[bytes]) -> int:
    if len(blobs) == 1:
        return round(ds.hll_sketch.deserialize(blobs[0]).get_estimate())
    union = ds.hll_union(LG_K)
    for blob in blobs:
        union.update(ds.hll_sketch.deserialize(blob))
    return round(union.get_estimate())
