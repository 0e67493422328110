"""ClickHouse summaries, the read side: site totals and time series without raw events.

For a query with no filter, goal or breakdown (the dashboard's overview), the
answer is put together from per-UTC-hour rows: event counters from
`stats_hours`, visit counters from `stats_visit_hours` where the compaction
left a row no insert can have changed since (`clickhouse_compact.py`),
grouped live from `stats_visit_parts` for the other ("live") hours, and
unique visitors merged from day and hour sketches. A site's local days must
be whole UTC hours (every zone but the :30 and :45 ones); otherwise, or for
any other query, `summary_parts` returns None and the raw SQL answers.

The numbers are the raw SQL's, visit for visit: the same visit grouping and
the same one-day visit horizon. Visitors are uniqCombined sketches (exact for
small sets, about 0.3 % off beyond), as SQLite's summaries use HLL sketches.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict, deque
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from footfall.stats.model import Query, bucket_label
from footfall.stats.sql import plan
from footfall.stats.summaries import clickhouse_sql as sql
from footfall.stats.summaries.clickhouse_compact import (
    PURGE_KEY,
    TAIL_HOURS,
    has_summaries,
    visits_sql,
)
from footfall.stores.base import Store
from footfall.stores.ch_views import VIEW_TABLES

__all__ = ["summary_parts", "why_not"]

EVENT_DIM_METRICS = frozenset({"visitors", "pageviews", "events"})
VISIT_DIM_METRICS = EVENT_DIM_METRICS | {
    "visits",
    "views_per_visit",
    "bounce_rate",
    "visit_duration",
}
METRICS = VISIT_DIM_METRICS | {"requests", "bytes", "error_rate"}  # site totals and series
EVENT_DIMS = sql.EVENT_DIMS
VISIT_DIMS = frozenset(sql.VISIT_DIMS)
LIVE_CACHE_SIZE = 64
LIVE_CACHE_SETTLE_S = 2  # inserts this recent (server seconds) keep an answer out of the cache
# (url, site, live hours, the marks and counts they depend on) -> counters per hour
_LIVE: OrderedDict[tuple[Any, ...], dict[int, tuple[int, ...]]] = OrderedDict()
_LIVE_LOCK = threading.Lock()
_HOUR = timedelta(hours=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def why_not(q: Query) -> str | None:
    """None if ClickHouse's summaries can answer `q` (site state aside), else why not."""
    if q.include_bots:
        return "bots are only in raw events"
    if q.filters or q.goals:
        return "filters and goals need raw events on ClickHouse"
    if q.prop is not None:
        if q.prop.prop_key or q.prop.column not in (VISIT_DIMS if q.prop.is_visit else EVENT_DIMS):
            return f"{q.prop.name} breakdowns need raw events on ClickHouse"
        allowed = VISIT_DIM_METRICS if q.prop.is_visit else EVENT_DIM_METRICS
        extra = set(q.metrics) - allowed
        if extra:
            return f"{', '.join(sorted(extra))} not summarised for {q.prop.name}"
    extra = set(q.metrics) - METRICS
    if extra:
        return f"{', '.join(sorted(extra))} not summarised"
    if _hours(q, "total") is None:
        return f"local days in {q.tz} do not start on whole UTC hours"
    return None


def _label(zone: ZoneInfo, interval: str, hour: int) -> str:
    return bucket_label((_EPOCH + hour * _HOUR).astimezone(zone), interval)


def _hours(q: Query, group: str) -> dict[int, str] | None:
    """{UTC hour: group label} over the range, or None if local days are not whole hours."""
    return _hour_labels(q.tz, q.first, q.last, "" if group == "total" else q.interval)


@functools.lru_cache(maxsize=16)
def _hour_labels(tz: str, first: date, last: date, interval: str) -> dict[int, str] | None:
    zone = ZoneInfo(tz or "UTC")
    out: dict[int, str] = {}
    if interval == "hour":  # every hour has its own label: check each one
        start = _utc_hour(first, zone)
        end = _utc_hour(first + timedelta(days=(last - first).days + 1), zone)
        if start is None or end is None:
            return None
        for h in range(start, end):
            offset = (_EPOCH + h * _HOUR).astimezone(zone).utcoffset()
            if offset is None or offset.total_seconds() % 3600:
                return None
            out[h] = _label(zone, interval, h)
        return out
    # Day, week and month buckets change at local midnights: those must be on
    # whole UTC hours; the hours between belong to the day whatever the offset.
    start = _utc_hour(first, zone)
    if start is None:
        return None
    for i in range((last - first).days + 1):
        d = first + timedelta(days=i)
        end = _utc_hour(d + timedelta(days=1), zone)
        if end is None:
            return None
        label = "" if not interval else _label(zone, interval, start)
        for h in range(start, end):
            out[h] = label
        start = end
    return out


def _utc_hour(d: date, zone: ZoneInfo) -> int | None:
    """The UTC hour local midnight of `d` falls on, or None if not on a whole hour."""
    t = datetime.combine(d, datetime.min.time(), zone).astimezone(timezone.utc)
    if t.minute or t.second:
        return None
    return int((t - _EPOCH) // _HOUR)


def _newest_within(marks: dict[int, tuple[int, int]], lo: int, hi: int) -> list[int]:
    """For each hour of [lo, hi): the newest mark within TAIL_HOURS of it (0: none).
    A sliding-window maximum, so a year's hours cost O(n), not O(n * 49)."""
    span = range(lo - TAIL_HOURS, hi + TAIL_HOURS)
    values = [marks[h][0] if h in marks else 0 for h in span]
    width = 2 * TAIL_HOURS + 1
    out: list[int] = []
    window: deque[int] = deque()  # indexes into values, their values decreasing
    for i, v in enumerate(values):
        while window and values[window[-1]] <= v:
            window.pop()
        window.append(i)
        if window[0] <= i - width:
            window.popleft()
        if i >= width - 1:
            out.append(values[window[0]])
    return out


def _complete(store: Store, site: str, start_us: int) -> bool:
    """The site's summaries count exactly its events from `start_us` on: not marked
    incomplete, the views in place, and no purge within a day of the range."""
    rows = store.query(sql.SITE_COMPLETE, {"site": site})
    if rows and not int(rows[0][0]):
        return False
    views = tuple(f"{t}_mv" for t in VIEW_TABLES)
    if int(store.query(sql.VIEWS_PRESENT, {"views": views})[0][0]) != len(views):
        return False
    keys = (PURGE_KEY, f"{PURGE_KEY}:{site}")
    found = store.query(sql.PURGED, {"keys": keys})
    purged = int(found[0][0] or 0) if found else 0
    # A visit across the cut-off lost its early events in `events` only.
    return start_us - sql.DAY_US >= purged


def _live(
    store: Store, site: str, live: list[int], marks: dict[int, tuple[int, int]]
) -> dict[int, tuple[int, ...]]:
    """Visit counters of the live start hours, grouped from the visit parts.

    Cached under the marks and event counts of every hour they depend on, so
    the overview's two calls (totals, then the series) group them once."""
    lo, hi = live[0] - TAIL_HOURS, live[-1] + TAIL_HOURS + 1
    key = (
        store.location,
        site,
        tuple(live),
        tuple((h, marks[h]) for h in range(lo, hi) if h in marks),
    )
    with _LIVE_LOCK:
        found = _LIVE.get(key)
        if found is not None:
            _LIVE.move_to_end(key)
            return found
    rows = store.query(
        sql.LIVE_VISITS,
        {
            "site": site,
            "plo": lo,
            "phi": hi,
            "slo": live[0] * sql.HOUR_US,
            "shi": (live[-1] + 1) * sql.HOUR_US,
        },
    )
    wanted = set(live)
    found = {int(r[0]): tuple(int(v) for v in r[1:]) for r in rows if int(r[0]) in wanted}
    newest = max((at for _, (at, _) in key[3]), default=0)
    if newest >= int(store.query(sql.SERVER_NOW)[0][0]) - LIVE_CACHE_SETTLE_S:
        # The views fire one after another: an insert this fresh may be in
        # `stats_hours` (the key) and not yet in the visit parts read.
        return found
    with _LIVE_LOCK:
        _LIVE[key] = found
        while len(_LIVE) > LIVE_CACHE_SIZE:
            _LIVE.popitem(last=False)
    return found


def _visit_counters(
    store: Store, site: str, hours: list[int], marks: dict[int, tuple[int, int]]
) -> dict[int, tuple[int, ...]]:
    """(visits, bounces, duration, pageviews, events) per start hour that has any."""
    trusted, live = _split(store, site, hours, marks)
    out = {h: counters for h, (_, counters) in trusted.items()}
    if live:
        out.update(_live(store, site, live, marks))
    return out


def _visitors(store: Store, site: str, groups: dict[str, list[int]]) -> dict[str, int]:
    """Unique visitors per group: whole UTC days from day sketches, the rest by hour."""
    labels = list(groups)
    days: list[int] = []
    day_b: list[int] = []
    hours: list[int] = []
    hour_b: list[int] = []
    for b, label in enumerate(labels):
        held = set(groups[label])
        for day in sorted({h // 24 for h in held}):
            whole = all(day * 24 + i in held for i in range(24))
            if whole:
                days.append(day)
                day_b.append(b)
            else:
                own = [day * 24 + i for i in range(24) if day * 24 + i in held]
                hours += own
                hour_b += [b] * len(own)
    if not days and not hours:
        return {}
    params: dict[str, Any] = {"site": site}
    if days:
        params.update(days=days, day_b=day_b, dlo=min(days), dhi=max(days))
    if hours:
        params.update(hours=hours, hour_b=hour_b, hlo=min(hours), hhi=max(hours))
    rows = store.query(sql.visitors_sql(bool(days), bool(hours)), params)
    return {labels[int(b)]: int(v) for b, v in rows}


def _hour_rows(
    store: Store, site: str, lo: int, hi: int
) -> tuple[dict[int, tuple[int, int]], dict[int, tuple[int, ...]]]:
    """Per hour of [lo, hi) with events: the mark (newest insert, event count)
    and the event counters (events, pageviews, requests, bytes, errors)."""
    marks: dict[int, tuple[int, int]] = {}
    counters: dict[int, tuple[int, ...]] = {}
    for r in store.query(sql.HOUR_ROWS, {"site": site, "lo": lo, "hi": hi}):
        h = int(r[0])
        marks[h] = (int(r[1]), int(r[2]))
        counters[h] = tuple(int(v) for v in r[2:])
    return marks, counters


def _split(
    store: Store, site: str, hours: list[int], marks: dict[int, tuple[int, int]]
) -> tuple[dict[int, tuple[int, tuple[int, ...]]], list[int]]:
    """({hour: (computed_at, counters)} of the trusted compacted hours, live hours)."""
    rows = store.query(sql.VISIT_ROWS, {"site": site, "lo": hours[0], "hi": hours[-1] + 1})
    stored = {int(r[0]): (int(r[1]), tuple(int(v) for v in r[2:])) for r in rows}
    trusted: dict[int, tuple[int, tuple[int, ...]]] = {}
    live: list[int] = []
    newest = _newest_within(marks, hours[0], hours[-1] + 1)
    for h in hours:
        if h not in marks:
            continue  # no event in the hour: no visit started in it
        row = stored.get(h)
        if row is None or newest[h - hours[0]] >= row[0]:
            live.append(h)
        else:
            trusted[h] = row
    return trusted, live


def _triples(
    store: Store,
    table: str,
    site: str,
    dim: str,
    hours: list[int],
    trusted: dict[int, tuple[int, tuple[int, ...]]],
) -> tuple[tuple[int, int, int], ...]:
    """(grain, hour, computed_at) of the breakdown rows to read: a UTC day's row
    where all its 24 hours are trusted from one computation and the compaction
    wrote that day's row, else the trusted hours one by one."""
    held = set(hours)
    candidates: dict[int, int] = {}
    for day in sorted({h // 24 for h in trusted}):
        first = day * 24
        ats = {trusted[h][0] for h in range(first, first + 24) if h in trusted and h in held}
        if len(ats) == 1 and all(first + i in trusted for i in range(24)):
            candidates[first] = ats.pop()
    whole: set[int] = set()
    if candidates:
        days = tuple(sorted(candidates.items()))
        rows = store.query(sql.days_present_sql(table), {"site": site, "dim": dim, "days": days})
        whole = {int(r[0]) for r in rows}
    out = [(1, first, candidates[first]) for first in sorted(whole)]
    out += [(0, h, at) for h, (at, _) in sorted(trusted.items()) if h // 24 * 24 not in whole]
    return tuple(out)


def _breakdown(store: Store, q: Query, hours: list[int]) -> dict[str, dict[str, Any]]:
    """Parts per value of q.prop: compacted hours at their computation, plus the live
    hours grouped from raw events."""
    assert q.prop is not None
    acc: dict[str, dict[str, Any]] = {}
    column = q.prop.column
    marks, _ = _hour_rows(store, q.site, hours[0] - TAIL_HOURS, hours[-1] + 1 + TAIL_HOURS)
    trusted, live = _split(store, q.site, hours, marks)
    if not trusted and not live:
        return acc
    table = "stats_visit_dims" if q.prop.is_visit else "stats_event_dims"
    dim = column if q.prop.is_visit else EVENT_DIMS[column]
    triples = _triples(store, table, q.site, dim, hours, trusted)
    params: dict[str, Any] = {"site": q.site, "dim": dim, "triples": triples, "live": live}
    if triples:
        params.update(
            grains=tuple(sorted({t[0] for t in triples})),
            hlo=min(t[1] for t in triples),
            hhi=max(t[1] for t in triples),
        )
    if live:
        params.update(
            elo=live[0] * sql.HOUR_US - sql.DAY_US,
            ehi=(live[-1] + 1) * sql.HOUR_US + sql.DAY_US,
        )
    if not q.prop.is_visit:
        text = sql.event_dim_sql(bool(triples), bool(live)).format(column=column)
        for value, events, pageviews, visitors in store.query(text, params):
            acc[str(value)] = {
                "events": int(events),
                "pageviews": int(pageviews),
                "visitors": int(visitors),
            }
        return acc
    live_sql = None
    if live:  # allow-listed column
        live_sql = sql.DIM_LIVE.format(column=column, visits=visits_sql(["visitor_id", column]))
    names = ("visits", "bounces", "duration", "v_pageviews", "v_events", "v_visitors")
    for row in store.query(sql.visit_dim_sql(bool(triples), live_sql), params):
        acc[str(row[0])] = dict(zip(names, (int(v) for v in row[1:]), strict=True))
    return acc


def summary_parts(store: Store, q: Query, group: str) -> dict[str, dict[str, Any]] | None:
    """Parts per group ("", bucket label or value) as the raw SQL gives them, or None."""
    if why_not(q) is not None:
        return None
    if (group == "prop") != (q.prop is not None) or group not in ("total", "bucket", "prop"):
        return None
    if not has_summaries(store):
        return None
    labels = _hours(q, group)
    if not labels:
        return None
    start, _ = q.utc_range()
    keep = store.retention_days
    if keep is not None and start - timedelta(days=1) < datetime.now(timezone.utc) - timedelta(
        days=keep
    ):
        return None  # expired events are gone from `events`, not from the summaries
    if not _complete(store, q.site, int((start - _EPOCH) // timedelta(microseconds=1))):
        return None
    hours = sorted(labels)
    if group == "prop":
        return _breakdown(store, q, hours)
    p = plan(q)
    want_visits = p.need_visit_sql
    lo, hi = hours[0], hours[-1] + 1
    if want_visits:
        lo, hi = lo - TAIL_HOURS, hi + TAIL_HOURS
    marks, counters = _hour_rows(store, q.site, lo, hi)
    acc: dict[str, dict[str, Any]] = {}
    groups: dict[str, list[int]] = {}
    for h in hours:
        groups.setdefault(labels[h], []).append(h)
    if p.need_event_sql:
        for h in hours:
            c = counters.get(h)
            if c is None:
                continue
            parts = acc.setdefault(labels[h], {})
            for name, v in zip(
                ("events", "pageviews", "requests", "bytes", "errors"), c, strict=True
            ):
                parts[name] = parts.get(name, 0) + v
        if "visitors" in q.metrics:
            for label, n in _visitors(store, q.site, groups).items():
                acc.setdefault(label, {})["visitors"] = n
    if want_visits:
        names = ("visits", "bounces", "duration", "v_pageviews", "v_events")
        for h, c in _visit_counters(store, q.site, hours, marks).items():
            parts = acc.setdefault(labels[h], {})
            for name, v in zip(names, c, strict=True):
                parts[name] = parts.get(name, 0) + v
    return acc
