# ruff: noqa: S608 - this module composes SQL from allow-listed names; values are bound (Params)
"""Compile a `Query` to SQL over the raw `events` table (the exact, always-correct path).

Two relations are built as CTEs: `ev`, the site's events in the range (plus
a day either side, so visits crossing the range edges are complete), and,
when needed, `vis`, one row per visit: start/end, page views, events, entry
and exit page, and the visit properties of its first event.

Which rows a metric counts (the rule summaries follow too):
- visit metrics (visits, bounce_rate, visit_duration, views_per_visit) count
  visits that *started* in the range;
- event metrics (visitors, pageviews, events) count events in the range,
  except when the query names visit properties only (a visit filter or a visit
  breakdown and no event filter), where they sum the visits that started in
  the range (Plausible's session semantics);
- request metrics always count `request` events in the range.

Only allow-listed column names are pasted; every value goes through `Params`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from footfall.columns import (
    EVENT_PROPERTIES,
    PAGE_VISIT_PROPERTIES,
    VISIT_PROPERTIES,
    VISIT_SOURCE_COLUMNS,
)
from footfall.stats.dialect import Dialect, Params, offset_segments
from footfall.stats.filters import Condition, Goal
from footfall.stats.model import Query
from footfall.stats.properties import Property
from footfall.stats.wildcard import parse_wildcard
from footfall.stores.rows import to_micros

__all__ = [
    "GOAL_PARTS",
    "TAIL_US",
    "Params",
    "Plan",
    "compile_parts",
    "cond_sql",
    "goal_breakdown_sql",
    "goal_sql",
    "plan",
]

TAIL_US = 86_400 * 1_000_000  # visits are assumed to last under a day
# The columns of `ev`: what the metrics read, the event properties' columns and
# the event columns the visit properties come from (each once).
_EV_COLUMNS = tuple(
    dict.fromkeys(
        (
            "id",
            "ts",
            "name",
            "path",
            "host",
            "status",
            "duration_ms",
            "bytes",
            "visitor_id",
            "visit_id",
            "props",
            *(p.column for p in EVENT_PROPERTIES),
            *sorted(set(VISIT_SOURCE_COLUMNS.values())),
        )
    )
)
EVENT_PARTS = (
    "visitors",
    "pageviews",
    "events",
    "requests",
    "bytes",
    "errors",
    "p50",
    "p95",
    "revenue",
    "revenue_events",
)
VISIT_PARTS = ("visits", "bounces", "duration", "v_pageviews", "v_events", "v_visitors")
# What `goal_breakdown_sql` answers per goal, in its column order.
GOAL_PARTS = ("visitors", "events", "revenue", "revenue_events")


@dataclass(frozen=True)
class Plan:
    """Which relation answers which metrics for one query."""

    event_metrics_from_visits: bool  # visitors/pageviews/events summed over visits
    need_event_sql: bool
    need_visit_sql: bool
    need_vis: bool


def plan(q: Query) -> Plan:
    has_e = bool(q.event_filters) or bool(q.goals)
    has_v = bool(q.visit_filters)
    prop_visit = q.prop is not None and q.prop.is_visit
    from_visits = not q.event_scope and not has_e and (prop_visit or (q.prop is None and has_v))
    wanted = set(q.metrics) | ({"visitors"} if "conversion_rate" in q.metrics else set())
    if wanted & {"total_revenue", "average_revenue"}:
        wanted.add("events")
    event_wanted = bool(wanted & {"visitors", "pageviews", "events"})
    request_wanted = bool(
        wanted & {"requests", "bytes", "duration_p50", "duration_p95", "error_rate"}
    )
    visit_wanted = bool(
        wanted & {"visits", "bounce_rate", "visit_duration", "views_per_visit"}
    ) or (from_visits and event_wanted)
    need_event = request_wanted or (event_wanted and not from_visits)
    need_vis = visit_wanted or has_v or prop_visit
    return Plan(from_visits, need_event, visit_wanted, need_vis)


# Visit properties `stats_visits` does not keep: a query reading one groups raw events.
_NOT_KEPT = frozenset(f"visit:{v.name}" for v in VISIT_PROPERTIES if not v.summarised)


def _reads_unkept(q: Query) -> bool:
    return any(c.prop.name in _NOT_KEPT for c in q.filters) or (
        q.prop is not None and q.prop.name in _NOT_KEPT
    )


class Relations:
    """The query's named relations (`ev`, `vr`, `vis`): a `WITH` list where the
    dialect has CTEs, else pasted as subqueries where they are used (ClickHouse
    18.16 has no CTE subqueries). Inlining repeats a body, so it needs named
    placeholders (a value bound once may appear twice); positional dialects
    keep CTEs, whose bodies come first in the text as their values do in `Params`.
    """

    def __init__(self, d: Dialect) -> None:
        self.d = d
        self.bodies: dict[str, str] = {}

    def define(self, name: str, body: str, materialized: bool = False) -> None:
        hint = self.d.materialized if materialized and self.d.ctes else ""
        self.bodies[name] = f"{hint}({body})"

    def ref(self, name: str) -> str:
        """What to write after FROM/JOIN for `name` (table names pass through)."""
        if name not in self.bodies or self.d.ctes:
            return name
        return self.bodies[name]

    def prefix(self) -> str:
        if not self.d.ctes or not self.bodies:
            return ""
        return "WITH " + ", ".join(f"{n} AS {b}" for n, b in self.bodies.items()) + " "


def visit_columns(q: Query) -> list[str]:
    """The visit columns `q` reads besides the counts: properties it filters or breaks
    down by, and visitor_id when visitors are counted over visits."""
    wanted = {c.prop.column for c in q.visit_filters}
    if q.prop is not None and q.prop.is_visit:
        wanted.add(q.prop.column)
    if plan(q).event_metrics_from_visits:
        wanted.add("visitor_id")
    return sorted(wanted)


def _ctes(q: Query, d: Dialect, p: Params, need_vis: bool) -> Relations:
    rels = Relations(d)
    start, end = q.utc_range()
    lo, hi = to_micros(start), to_micros(end)
    wlo, whi = (lo - TAIL_US, hi + TAIL_US) if need_vis else (lo, hi)
    bots = "" if q.include_bots else " AND is_bot = 0"
    rels.define(
        "ev",
        f"SELECT {', '.join(_EV_COLUMNS)} FROM {d.events_table} WHERE site = {p.add(q.site)}"
        f" AND ts >= {p.add(wlo)} AND ts < {p.add(whi)}{bots}",
    )
    if not need_vis:
        return rels
    if q.visits_table and not q.include_bots and not _reads_unkept(q):
        # The visits maintained at write time (same definitions, whole visits);
        # the properties they do not keep (user_id) are empty.
        cols = ", ".join(
            (
                "visit_id",
                "start_ts",
                "end_ts",
                "pageviews",
                "events",
                "visitor_id",
                *PAGE_VISIT_PROPERTIES,
                *(v.name for v in VISIT_PROPERTIES if v.summarised),
                *(f"'' AS {v.name}" for v in VISIT_PROPERTIES if not v.summarised),
            )
        )
        rels.define(
            "vis",
            f"SELECT {cols} FROM {q.visits_table} WHERE site = {p.add(q.site)}"
            f" AND start_ts >= {p.add(wlo)} AND start_ts < {p.add(hi)}",
            materialized=True,
        )
        return rels
    grouped = d.visits_select(rels.ref("ev"), visit_columns(q), p)
    if grouped is not None:  # the dialect groups events by visit_id itself
        rels.define("vis", grouped, materialized=True)
        return rels
    src = sorted(set(VISIT_SOURCE_COLUMNS.values()))
    pv_first = "CASE WHEN name = 'pageview' THEN 0 ELSE 1 END"
    rels.define(
        "vr",
        f"SELECT visit_id, ts, name, path, visitor_id, {', '.join(src)},"
        " ROW_NUMBER() OVER (PARTITION BY visit_id ORDER BY ts, id) AS rn,"
        f" ROW_NUMBER() OVER (PARTITION BY visit_id ORDER BY {pv_first}, ts, id) AS pf,"
        f" ROW_NUMBER() OVER (PARTITION BY visit_id ORDER BY {pv_first}, ts DESC, id DESC) AS pl"
        f" FROM {rels.ref('ev')} WHERE visit_id <> ''",
    )
    parts = [
        "COALESCE(MAX(CASE WHEN rn = 1 THEN visitor_id END), '') AS visitor_id",
        "COALESCE(MAX(CASE WHEN pf = 1 AND name = 'pageview' THEN path END), '') AS entry_page",
        "COALESCE(MAX(CASE WHEN pl = 1 AND name = 'pageview' THEN path END), '') AS exit_page",
    ]
    for col, source in VISIT_SOURCE_COLUMNS.items():
        if col == "user_id":
            parts.append("MAX(user_id) AS user_id")  # any id seen in the visit
        else:
            parts.append(f"COALESCE(MAX(CASE WHEN rn = 1 THEN {source} END), '') AS {col}")
    rels.define(
        "vis",
        "SELECT visit_id, MIN(ts) AS start_ts, MAX(ts) AS end_ts,"
        " SUM(CASE WHEN name = 'pageview' THEN 1 ELSE 0 END) AS pageviews, COUNT(*) AS events, "
        + ", ".join(parts)
        + f" FROM {rels.ref('vr')} GROUP BY visit_id",
        materialized=True,
    )
    return rels


def _visit_join(q: Query, p: Params, rels: Relations) -> tuple[str, str]:
    """What to join events to for their visit: the maintained table by its primary key
    (a point look-up per event) when there is one, else the `vis` relation."""
    if q.visits_table and not q.include_bots and not _reads_unkept(q):
        return q.visits_table, f"v.site = {p.add(q.site)} AND "
    return rels.ref("vis"), ""


def prop_expr(prop: Property, d: Dialect, p: Params, alias: str) -> str:
    if prop.is_visit:
        return f"v.{prop.column}"
    if prop.prop_key:
        return d.json_text(f"{alias}.props", prop.prop_key, p)
    return f"{alias}.{prop.column}"


def cond_sql(c: Condition, d: Dialect, p: Params, alias: str = "e") -> str:
    parts: list[str] = []
    for value in c.values:
        # Built per use: a custom property's expression binds its key each time it appears.
        expr = prop_expr(c.prop, d, p, alias)
        if c.op in ("contains", "not_contains"):
            parts.append(d.contains(expr, value, p))
        elif c.is_wildcard(value):
            parts.append(d.wildcard(expr, parse_wildcard(value), p))
        elif c.prop.numeric:
            parts.append(f"{expr} = {p.add(int(value))}")
        else:
            parts.append(f"{expr} = {p.add(value)}")
    joined = "(" + " OR ".join(parts) + ")"
    return f"NOT {joined}" if c.negated else joined


def one_goal_sql(goal: Goal, d: Dialect, p: Params, alias: str = "e") -> str:
    """The events that complete `goal`: its pageviews, or its events (with its property)."""
    if goal.event:
        name = f"{alias}.name = {p.add(goal.event)}"
        if not goal.prop_key:
            return name
        value = d.json_text(f"{alias}.props", goal.prop_key, p)
        return f"({name} AND {value} = {p.add(goal.prop_value)})"
    page = (
        d.wildcard(f"{alias}.path", parse_wildcard(goal.page), p)
        if "*" in goal.page
        else f"{alias}.path = {p.add(goal.page)}"
    )
    return f"({alias}.name = 'pageview' AND {page})"


def goal_sql(goals: tuple[Goal, ...], d: Dialect, p: Params, alias: str = "e") -> str:
    """The events that complete any of `goals`."""
    return "(" + " OR ".join(one_goal_sql(g, d, p, alias) for g in goals) + ")"


def revenue_sql(q: Query, d: Dialect, p: Params, alias: str = "e") -> tuple[str, str]:
    """(sum, count) of the revenue values of the goal events of `q`.

    Only asked-for revenue is computed: elsewhere both are constants, so the
    statement reads no property it does not need. A value that is not a plain
    decimal number (`12`, `-3.5`, `"12.50"`) is no revenue: it is in neither.
    """
    paying = [g for g in q.goals if g.revenue_prop]
    if not paying or not set(q.metrics) & {"total_revenue", "average_revenue"}:
        return "NULL", "0"

    def values() -> str:  # positional placeholders: each use binds its values again
        whens = [
            f"WHEN {one_goal_sql(g, d, p, alias)} THEN "
            + d.json_number(f"{alias}.props", g.revenue_prop, p)
            for g in paying
        ]
        return f"CASE {' '.join(whens)} END"

    total = f"SUM({values()})"
    return total, f"COUNT({values()})"


def _group(q: Query, d: Dialect, p: Params, group: str, alias: str, ts_col: str) -> str:
    if group == "total":
        return "''"
    if group == "bucket":
        start, end = q.utc_range()
        segs = offset_segments(q.zone, to_micros(start) - TAIL_US, to_micros(end) + TAIL_US)
        return d.bucket(d.local_us(f"{alias}.{ts_col}", segs, p), q.interval)
    assert q.prop is not None
    return prop_expr(q.prop, d, p, alias)


def _event_conditions(q: Query, d: Dialect, p: Params, lo: int, hi: int) -> list[str]:
    where = [f"e.ts >= {p.add(lo)}", f"e.ts < {p.add(hi)}"]
    where += [cond_sql(c, d, p) for c in q.event_filters]
    if q.goals:
        where.append(goal_sql(q.goals, d, p))
    return where


def event_sql(q: Query, d: Dialect, group: str) -> tuple[str, list[Any]]:
    p = Params(d)
    joined = bool(q.visit_filters) or (q.prop is not None and q.prop.is_visit)
    # Visits only when joined: an unused `vis` still references `ev`, which
    # makes PostgreSQL and SQLite materialise `ev` instead of streaming it.
    rels = _ctes(q, d, p, joined)
    start, end = q.utc_range()
    g = _group(q, d, p, group, "e", "ts")
    durations = "CASE WHEN e.name = 'request' THEN e.duration_ms END"
    # Percentiles hold every duration in memory: only when asked for.
    p50 = d.percentile(durations, 0.5, p) if "duration_p50" in q.metrics else "NULL"
    p95 = d.percentile(durations, 0.95, p) if "duration_p95" in q.metrics else "NULL"
    rev_sum, rev_n = revenue_sql(q, d, p)
    join = ""  # placeholders are positional: bind in the order the SQL text uses them
    if joined:
        table, on = _visit_join(q, p, rels)
        join = f" {d.join} {table} v ON {on}v.visit_id = e.visit_id"
    where = _event_conditions(q, d, p, to_micros(start), to_micros(end))
    if joined:
        where += [cond_sql(c, d, p) for c in q.visit_filters]
    sql = (
        f"{rels.prefix()}SELECT {g} AS g,"
        " COUNT(DISTINCT NULLIF(e.visitor_id, '')),"
        " SUM(CASE WHEN e.name = 'pageview' THEN 1 ELSE 0 END), COUNT(*),"
        " SUM(CASE WHEN e.name = 'request' THEN 1 ELSE 0 END), SUM(e.bytes),"
        " SUM(CASE WHEN e.name = 'request' AND e.status >= 500 THEN 1 ELSE 0 END),"
        f" {p50}, {p95}, {rev_sum}, {rev_n}"
        f" FROM {rels.ref('ev')} e{join} WHERE {' AND '.join(where)} GROUP BY g"
    )
    return sql, p.values


def visit_sql(q: Query, d: Dialect, group: str) -> tuple[str, list[Any]]:
    p = Params(d)
    rels = _ctes(q, d, p, True)
    start, end = q.utc_range()
    lo, hi = to_micros(start), to_micros(end)
    # Visitors over visits only count when event metrics come from visits
    # (plan); elsewhere 0 spares reading, or computing, each visit's visitor.
    visitors = "COUNT(DISTINCT NULLIF(v.visitor_id, ''))"
    metrics = (
        " COUNT(*), SUM(CASE WHEN v.pageviews = 1 AND v.events = 1 THEN 1 ELSE 0 END),"
        " SUM(v.end_ts - v.start_ts), SUM(v.pageviews), SUM(v.events),"
        f" {visitors if plan(q).event_metrics_from_visits else '0'}"
    )
    if group == "prop" and q.prop is not None and not q.prop.is_visit:
        # Visits that hold an event with each value (in the range, matching the filters).
        inner_p = prop_expr(q.prop, d, p, "e")
        where = _event_conditions(q, d, p, lo, hi)
        pairs = (
            f"SELECT DISTINCT e.visit_id, {inner_p} AS g FROM {rels.ref('ev')} e"
            f" WHERE e.visit_id <> '' AND {' AND '.join(where)}"
        )
        table, on = _visit_join(q, p, rels)
        vwhere = [cond_sql(c, d, p) for c in q.visit_filters] or ["1 = 1"]
        sql = (
            f"{rels.prefix()}SELECT k.g,{metrics} FROM ({pairs}) k {d.join} {table} v"
            f" ON {on}v.visit_id = k.visit_id"
            f" WHERE {' AND '.join(vwhere)} GROUP BY k.g"
        )
        return sql, p.values
    g = _group(q, d, p, group, "v", "start_ts")
    where = [f"v.start_ts >= {p.add(lo)}", f"v.start_ts < {p.add(hi)}"]
    where += [cond_sql(c, d, p) for c in q.visit_filters]
    if q.event_filters or q.goals:
        ewhere = _event_conditions(q, d, p, lo, hi)
        where.append(
            f"v.visit_id IN (SELECT e.visit_id FROM {rels.ref('ev')} e"
            f" WHERE {' AND '.join(ewhere)})"
        )
    sql = (
        f"{rels.prefix()}SELECT {g} AS g,{metrics} FROM {rels.ref('vis')} v"
        f" WHERE {' AND '.join(where)} GROUP BY g"
    )
    return sql, p.values


def compile_parts(q: Query, d: Dialect, group: str) -> list[tuple[str, str, list[Any]]]:
    """The SQL statements answering `q`, tagged "event" or "visit"."""
    pl = plan(q)
    out: list[tuple[str, str, list[Any]]] = []
    if pl.need_event_sql:
        out.append(("event", *event_sql(q, d, group)))
    if pl.need_visit_sql:
        out.append(("visit", *visit_sql(q, d, group)))
    return out


def goal_breakdown_sql(q: Query, goals: tuple[Goal, ...], d: Dialect) -> tuple[str, list[Any]]:
    """A breakdown by goal in one scan: for each of `goals`, in order, the
    `GOAL_PARTS` of its completions among the events `q` selects (its range,
    filters and any `event:goal` filter). Each goal is a few conditional
    aggregates over the events completing any of them, so ten goals cost one
    pass over the period, not ten."""
    p = Params(d)
    joined = bool(q.visit_filters)
    rels = _ctes(q, d, p, joined)
    start, end = q.utc_range()
    revenue = bool(set(q.metrics) & {"total_revenue", "average_revenue"})
    cols: list[str] = []
    for g in goals:  # positional placeholders: every use binds its values again
        cols.append(
            f"COUNT(DISTINCT CASE WHEN {one_goal_sql(g, d, p)} THEN NULLIF(e.visitor_id, '') END)"
        )
        cols.append(f"SUM(CASE WHEN {one_goal_sql(g, d, p)} THEN 1 ELSE 0 END)")
        if revenue and g.revenue_prop:
            for agg in ("SUM", "COUNT"):
                done = one_goal_sql(g, d, p)  # bound before the number: text order
                number = d.json_number("e.props", g.revenue_prop, p)
                cols.append(f"{agg}(CASE WHEN {done} THEN {number} END)")
        else:
            cols += ["NULL", "0"]
    join = ""
    if joined:
        table, on = _visit_join(q, p, rels)
        join = f" {d.join} {table} v ON {on}v.visit_id = e.visit_id"
    where = _event_conditions(q, d, p, to_micros(start), to_micros(end))
    if joined:
        where += [cond_sql(c, d, p) for c in q.visit_filters]
    where.append(goal_sql(goals, d, p))
    sql = (
        f"{rels.prefix()}SELECT {', '.join(cols)}"
        f" FROM {rels.ref('ev')} e{join} WHERE {' AND '.join(where)}"
    )
    return sql, p.values
