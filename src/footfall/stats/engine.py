"""Run queries: summaries when they can answer, raw SQL otherwise; format the numbers.

Both paths produce the same "parts" (raw sums per group); `finalize` turns
parts into the metrics users see, with Plausible's rounding: bounce_rate and
visit_duration whole numbers, views_per_visit two decimals, rates one,
revenue two (as `{"value": 12.5, "currency": "EUR"}`).

A breakdown by goal (`property=event:goal`) counts every saved goal of the
site from the goal summaries (`summaries/goals.py`) when they can answer
exactly, else in one scan of raw events (`sql.goal_breakdown_sql`), each as if
filtered by it, and leaves out the goals nobody completed, as Plausible
does; its conversion rates share one denominator, the visitors of the
period and filters. With `with_imported`, imported custom events and pages
add to the goals they complete, and imported visitors to the denominator
(`stats.imported.imported_goal_parts`).
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from footfall.stats.dialect import Dialect
from footfall.stats.errors import StatsError
from footfall.stats.filters import Goal
from footfall.stats.imported import add_imported, imported_goal_parts, imported_parts
from footfall.stats.model import Query, bucket_label
from footfall.stats.sql import (
    EVENT_PARTS,
    GOAL_PARTS,
    VISIT_PARTS,
    compile_parts,
    goal_breakdown_sql,
    plan,
)
from footfall.stats.summaries import clickhouse_read as ch_summary
from footfall.stats.summaries import goals as goal_summary
from footfall.stats.summaries.catchup import ensure_current
from footfall.stats.summaries.read import SUMMARY_DIALECTS, summary_parts, why_not
from footfall.stats.summaries.site_status import site_complete

__all__ = [
    "aggregate",
    "breakdown",
    "bucket_labels",
    "dialect_for",
    "finalize",
    "parts",
    "timeseries",
]


def dialect_for(store: Any) -> Dialect:
    """The store's stats dialect (`Store.stats_dialect()`; a 501 where stats cannot run)."""
    found: Dialect = store.stats_dialect()
    return found


def raw_parts(store: Any, q: Query, group: str) -> dict[str, dict[str, Any]]:
    d = dialect_for(store)
    if d.name == "sqlite":
        d.prepare(store.conn)
    if d.name in SUMMARY_DIALECTS and q.engine != "raw" and site_complete(store, q.site):
        q = replace(q, visits_table="stats_visits")
    out: dict[str, dict[str, Any]] = {}
    for kind, sql, params in compile_parts(q, d, group):
        names = EVENT_PARTS if kind == "event" else VISIT_PARTS
        for row in store.query(sql, params):
            key = "" if row[0] is None else str(row[0])
            out.setdefault(key, {}).update(zip(names, row[1:], strict=True))
    return out


def parts(store: Any, q: Query, group: str) -> tuple[dict[str, dict[str, Any]], str]:
    """(parts per group, "summary" or "raw").

    Summaries trail the writes, so they are first brought up to date (a single
    indexed lookup when nothing is new): both paths read them (the raw one
    reads `stats_visits`), and an answer must include every stored event.
    """
    ensure_current(store)
    if q.engine != "raw":
        on_clickhouse = store.dialect == "clickhouse"
        summarise = ch_summary.summary_parts if on_clickhouse else summary_parts
        found = summarise(store, q, group)
        if found is not None:
            return found, "summary"
        if q.engine == "summary":
            reason = ch_summary.why_not(q) if on_clickhouse else why_not(q)
            raise StatsError("engine", reason or "summaries are not complete for this site")
    return raw_parts(store, q, group), "raw"


def _round(x: float, digits: int = 0) -> float:
    """Half away from zero (what people expect; Python's round is half to even)."""
    scale = 10**digits
    return float(math.floor(abs(x) * scale + 0.5) / scale * (1 if x >= 0 else -1))


def finalize(q: Query, p: dict[str, Any], conv: dict[str, Any] | None = None) -> dict[str, Any]:
    from_visits = plan(q).event_metrics_from_visits

    def get(key: str) -> Any:
        return p.get(key) or 0

    visits = get("visits")
    out: dict[str, Any] = {}
    for m in q.metrics:
        if m in ("visitors", "pageviews", "events"):
            out[m] = int(get(f"v_{m}" if from_visits else m))
        elif m == "visits":
            out[m] = int(visits)
        elif m == "bounce_rate":
            out[m] = int(_round(100 * get("bounces") / visits)) if visits else 0
        elif m == "visit_duration":
            out[m] = int(_round(get("duration") / visits / 1e6)) if visits else 0
        elif m == "views_per_visit":
            out[m] = _round(get("v_pageviews") / visits, 2) if visits else 0.0
        elif m in ("requests", "bytes"):
            out[m] = int(get(m))
        elif m == "error_rate":
            out[m] = _round(100 * get("errors") / get("requests"), 1) if get("requests") else 0.0
        elif m in ("duration_p50", "duration_p95"):
            value = p.get("p50" if m == "duration_p50" else "p95")
            out[m] = _round(float(value), 2) if value is not None else None
        elif m == "conversion_rate":
            total = (conv or {}).get("visitors") or 0
            out[m] = _round(100 * get("visitors") / total, 1) if total else 0.0
        elif m in ("total_revenue", "average_revenue"):
            out[m] = _revenue(q, m, p)
    return out


def _revenue(q: Query, metric: str, p: dict[str, Any]) -> dict[str, Any] | None:
    """A revenue metric as `{"value": 12.5, "currency": "EUR"}`; None without revenue goals."""
    if not q.currency:
        return None
    total = float(p.get("revenue") or 0)
    if metric == "average_revenue":
        done = p.get("revenue_events") or 0
        total = total / done if done else 0.0
    return {"value": _round(total, 2), "currency": q.currency}


def _with_conversions(
    store: Any, q: Query, group: str
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    got, _ = parts(store, q, group)
    if q.with_imported:  # Plausible's imported data, added day by day (stats.imported)
        got = add_imported(got, imported_parts(store, dialect_for(store), q, group))
    conv: dict[str, dict[str, Any]] = {}
    if "conversion_rate" in q.metrics:
        conv, _ = parts(store, q.without_goal(), group)
    return got, conv


def aggregate(store: Any, q: Query) -> dict[str, Any]:
    """{"visitors": 3, "bounce_rate": 50, ...} for the whole period."""
    got, conv = _with_conversions(store, q, "total")
    return finalize(q, got.get("", {}), conv.get(""))


def bucket_labels(q: Query) -> list[str]:
    """Every bucket of the period, in order (so empty ones can be shown as 0)."""
    if q.interval == "hour":
        start, end = q.utc_range()
        labels: list[str] = []
        t = start
        while t < end:
            label = bucket_label(t.astimezone(q.zone), "hour")
            if not labels or labels[-1] != label:
                labels.append(label)
            t += timedelta(hours=1)
        return labels
    days = (q.last - q.first).days + 1
    out: list[str] = []
    for i in range(days):
        label = bucket_label(q.first + timedelta(days=i), q.interval)
        if not out or out[-1] != label:
            out.append(label)
    return out


def timeseries(store: Any, q: Query) -> list[dict[str, Any]]:
    """[{"date": "2026-10-01", "visitors": 3}, ...] with every bucket present."""
    got, conv = _with_conversions(store, q, "bucket")
    return [
        {"date": label, **finalize(q, got.get(label, {}), conv.get(label))}
        for label in bucket_labels(q)
    ]


def breakdown(store: Any, q: Query) -> list[dict[str, Any]]:
    """[{"page": "/", "visitors": 3}, ...] ordered by the first metric, then value."""
    if q.prop is None:
        raise StatsError("property", "property is required for a breakdown")
    if q.by_goal:
        return _goal_breakdown(store, q)
    got, conv = _with_conversions(store, q, "prop")
    rows = [(value, finalize(q, p, conv.get(value))) for value, p in got.items()]
    first = q.metrics[0]
    rows.sort(key=lambda r: (-(r[1].get(first) or 0), r[0]))
    start = (q.page - 1) * q.limit
    key = q.prop.key
    return [{key: q.prop.label(value), **m} for value, m in rows[start : start + q.limit]]


def _goal_parts(store: Any, q: Query, goals: tuple[Goal, ...]) -> list[dict[str, Any]]:
    """Each goal's `GOAL_PARTS`: from the goal summaries when they can answer, else raw."""
    if not goals:
        return []
    ensure_current(store)  # both read summaries, which must include every event
    d = dialect_for(store)
    if d.name == "sqlite":
        d.prepare(store.conn)
    if q.engine != "raw":
        found = goal_summary.goal_parts(store, q, goals, d)
        if found is not None:
            return found
        if q.engine == "summary":
            why = goal_summary.why_not(store, q, goals)
            raise StatsError("engine", why or "the goal summaries are not complete for this site")
    if d.name in SUMMARY_DIALECTS and q.engine != "raw" and site_complete(store, q.site):
        q = replace(q, visits_table="stats_visits")
    sql, params = goal_breakdown_sql(q, goals, d)
    row = next(iter(store.query(sql, params)))  # aggregates without GROUP BY: one row
    n = len(GOAL_PARTS)
    return [dict(zip(GOAL_PARTS, row[i * n : i * n + n], strict=True)) for i in range(len(goals))]


def _goal_breakdown(store: Any, q: Query) -> list[dict[str, Any]]:
    """[{"goal": "Signup", "visitors": 3, "events": 4, "conversion_rate": 5.2}, ...]:
    one row per saved goal someone completed (of those an `event:goal` filter names)."""
    goals = q.listed_goals
    found_parts = _goal_parts(store, q, goals)
    imported = imported_goal_parts(store, dialect_for(store), q, goals) if goals else None
    conv: dict[str, Any] = {}
    if "conversion_rate" in q.metrics and goals:
        # Only its visitors are read: other metrics could send it to raw events.
        total = replace(q.without_goal(), metrics=("visitors",))
        conv = parts(store, total, "total")[0].get("", {})
        if imported is not None:  # the period's imported visitors join the denominator
            extra = imported_parts(store, dialect_for(store), total, "total")
            conv = add_imported({"": conv}, extra)[""]
    if imported is not None:  # Plausible's imported conversions (stats.imported)
        found_parts = [
            {**found, **{n: (found.get(n) or 0) + more[n] for n in ("visitors", "events")}}
            for found, more in zip(found_parts, imported, strict=True)
        ]
    rows: list[tuple[str, dict[str, Any]]] = []
    for goal, found in zip(goals, found_parts, strict=True):
        if found.get("events"):
            rows.append((goal.label, finalize(replace(q, prop=None, goals=(goal,)), found, conv)))
    first = q.metrics[0]

    def order(row: tuple[str, dict[str, Any]]) -> tuple[float, str]:
        value = row[1].get(first)
        number = value.get("value") if isinstance(value, dict) else value
        return (-(number or 0), row[0])

    rows.sort(key=order)
    start = (q.page - 1) * q.limit
    return [{"goal": name, **m} for name, m in rows[start : start + q.limit]]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)
