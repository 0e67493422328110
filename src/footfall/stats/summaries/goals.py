"""Saved goals counted from `stats_goal_rows` instead of raw events (migration 0056).

Goals are saved after the fact (a goal added today counts last year's
events), match page paths by wildcard, event properties by any key, and sum
revenue from any property: nothing goal-specific can be folded ahead of time.
So the fold keeps what any goal is matched against, merged as far as exactness
allows: one row per (local day, event name, page path of a page view, a custom
event's properties, visitor, visit) with the number of events it stands for.
A page view's properties and a custom event's path are not kept (no goal reads
them, save a page goal's revenue, which raw events answer); `request` events
are not kept at all.

A goal's visitors are then a `COUNT(DISTINCT visitor_id)` over its rows,
its completions a sum of `n`, its revenue `SUM(number * n)`: the same numbers
the raw SQL (`sql.goal_breakdown_sql`) gives, read by an index range per goal
(`site, name, path, day`) instead of a scan of every event of the period.
Visit filters join `stats_visits` as the raw SQL does once a site's summaries
are complete. Anything the rows cannot answer exactly - an event filter, a goal
on `pageview` or `request` events, a page goal's revenue, bots, a visit property `stats_visits` does
not keep, a site whose goal rows are incomplete or bucketed in another zone -
gets None and the engine reads raw events. ClickHouse keeps no goal rows: it
scans raw events fast enough (`docs/goals.md`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from footfall.columns import VISIT_PROPERTIES
from footfall.stats.dialect import Dialect, Params
from footfall.stats.filters import Goal
from footfall.stats.model import Query
from footfall.stats.sql import GOAL_PARTS, cond_sql, one_goal_sql
from footfall.stats.summaries.dimensions import ROW_COLS, Clock
from footfall.stats.summaries.qmark import is_postgres, run
from footfall.stats.wildcard import parse_wildcard
from footfall.stores.base import SUMMARIES_FOLDED, Store

__all__ = ["MAX_PATHS", "fold_goal_rows", "goal_parts", "why_not"]

_NAME, _PATH, _TS = ROW_COLS.index("name"), ROW_COLS.index("path"), ROW_COLS.index("ts")
_VISITOR, _VISIT = ROW_COLS.index("visitor_id"), ROW_COLS.index("visit_id")
_PROPS = ROW_COLS.index("props")
_KEY = "site, name, path, day, visitor_id, visit_id, props"
_INSERT = (
    f"INSERT INTO stats_goal_rows ({_KEY}, n) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608
    " ON CONFLICT ({key}) DO UPDATE SET n = stats_goal_rows.n + excluded.n"
)
# PostgreSQL keys the properties by their hash (its unique index, migration 0056).
_PG_KEY = _KEY.replace("props", "md5(props::text)")
# Event names whose rows are not kept as goals read them: requests are not kept,
# page views keep no properties (an event goal on them may match a property).
_NOT_KEPT_EVENTS = frozenset({"request", "pageview"})
_NOT_KEPT_VISIT = frozenset(f"visit:{v.name}" for v in VISIT_PROPERTIES if not v.summarised)
_EPOCH_DAY = 719_163  # date(1970, 1, 1).toordinal()
MAX_PATHS = 5_000  # a wildcard matching more paths is read by its GLOB (bound values)


def _props_text(props: Any) -> str:
    if isinstance(props, str):
        return props or "{}"
    # PostgreSQL hands jsonb back as a dict: one canonical text per value, so
    # equal properties are one key of the upsert.
    return json.dumps(props or {}, separators=(",", ":"), sort_keys=True)


def fold_goal_rows(conn: Any, site: str, rows: Sequence[Sequence[Any]], clock: Clock) -> None:
    """Add new (non-bot) event rows of one site, in `ROW_COLS` order, to `stats_goal_rows`."""
    acc: dict[tuple[Any, ...], int] = {}
    for r in rows:
        name = r[_NAME]
        if name == "request":
            continue
        _, day = clock.local(r[_TS])
        if name == "pageview":
            key = (name, r[_PATH], day, r[_VISITOR], r[_VISIT], "{}")
        else:
            key = (name, "", day, r[_VISITOR], r[_VISIT], _props_text(r[_PROPS]))
        acc[key] = acc.get(key, 0) + 1
    if acc:
        sql = _INSERT.format(key=_PG_KEY if is_postgres(conn) else _KEY)
        conn.executemany(sql, [(site, *key, n) for key, n in acc.items()])


def why_not(store: Store, q: Query, goals: Sequence[Goal]) -> str | None:
    """None if `stats_goal_rows` can count `goals` for `q` (ignoring site state), else why."""
    if store.summaries != SUMMARIES_FOLDED:
        return "goals are counted from raw events on this store"
    if q.include_bots:
        return "bots are only in raw events"
    if q.event_filters:
        return "event filters beside goals need raw events"
    if any(c.prop.name in _NOT_KEPT_VISIT for c in q.visit_filters):
        return "a filter on a visit property the summaries do not keep needs raw events"
    for g in goals:
        if g.event in _NOT_KEPT_EVENTS:
            return f"goals on {g.event} events are counted from raw events"
        if g.page and g.revenue_prop:
            return "the revenue of page goals is counted from raw events"
    return None


def _ready(store: Store, q: Query) -> bool:
    try:
        sql = "SELECT tz, complete, goal_rows FROM stats_sites WHERE site = ?"
        rows = run(store, sql, (q.site,))
    except store.driver_errors:  # migration 0056 not applied (connect(migrate=False))
        return False
    return bool(rows) and rows[0][0] == q.tz and bool(rows[0][1]) and bool(rows[0][2])


def _page_candidates(store: Store, q: Query, goal: Goal) -> list[str] | None:
    """The period's paths that a page wildcard with no literal prefix matches, or None.

    Such a wildcard bounds no index range, so its rows would be every page view
    ever kept: the paths are taken from the rollup's `page` rows of the period
    instead (every path an event of the period had) and read by index. A
    prefix (`/blog/**`) bounds the range itself.
    """
    if "*" not in goal.page:
        return None
    w = parse_wildcard(goal.page)
    if not w.glob().startswith("*"):
        return None
    rows = run(
        store,
        "SELECT DISTINCT value FROM stats_rollup WHERE site = ? AND dim = 'page'"
        " AND fvalue = '' AND grain = 'd' AND bucket BETWEEN ? AND ?",
        (q.site, _day(q.first), _day(q.last)),
    )
    found = [r[0] for r in rows if w.matches(r[0])]
    return found if len(found) <= MAX_PATHS else None


def _rows_of(q: Query, goal: Goal, d: Dialect, p: Params, paths: list[str] | None) -> str:
    """FROM and WHERE of the goal's rows in the period (and visits, when filtered)."""
    join = ""
    if q.visit_filters:
        join = f" {d.join} stats_visits v ON v.site = {p.add(q.site)} AND v.visit_id = e.visit_id"
    where = [f"e.site = {p.add(q.site)}"]  # positional placeholders: bound in text order
    if paths is None:
        where.append(one_goal_sql(goal, d, p))
    else:
        where.append(f"e.name = 'pageview' AND e.path IN ({', '.join(p.add(v) for v in paths)})")
    if goal.event:
        where.append("e.path = ''")  # custom events keep no path: the index range of the name
    where.append(f"e.day BETWEEN {p.add(_day(q.first))} AND {p.add(_day(q.last))}")
    where += [cond_sql(c, d, p) for c in q.visit_filters]
    return f" FROM stats_goal_rows e{join} WHERE {' AND '.join(where)}"


def _goal_sql(q: Query, goal: Goal, d: Dialect, paths: list[str] | None) -> tuple[str, list[Any]]:
    """The goal's visitors and completions (and no revenue: `_revenue_sql`)."""
    p = Params(d)
    rows = _rows_of(q, goal, d, p, paths)
    return f"SELECT COUNT(DISTINCT NULLIF(e.visitor_id, '')), SUM(e.n), NULL, 0{rows}", p.values


def _revenue_sql(q: Query, goal: Goal, d: Dialect) -> tuple[str, list[Any]]:
    """The revenue of the goal's completions and how many carried one.

    Each distinct properties value is read as a number once (on SQLite a Python
    function: once per row would cost more than the rest of the goal), then
    counts as many times as the events that carried it.
    """
    p = Params(d)
    number = d.json_number("e.props", goal.revenue_prop, p)
    rows = _rows_of(q, goal, d, p, None)
    inner = f"SELECT {number} AS x, SUM(e.n) AS m{rows} GROUP BY e.props"
    sums = "SUM(r.x * r.m), SUM(CASE WHEN r.x IS NULL THEN 0 ELSE r.m END)"
    sql = f"SELECT {sums} FROM ({inner}) r"  # noqa: S608 - fixed names, bound values
    return sql, p.values


def _day(d: Any) -> int:
    return int(d.toordinal()) - _EPOCH_DAY


def goal_parts(
    store: Store, q: Query, goals: Sequence[Goal], d: Dialect
) -> list[dict[str, Any]] | None:
    """Each goal's `GOAL_PARTS` among the events `q` selects, from `stats_goal_rows`,
    or None when they cannot answer exactly (the caller reads raw events). `d` is
    the store's dialect, its functions registered (`Dialect.prepare`)."""
    if why_not(store, q, goals) is not None or not _ready(store, q):
        return None
    revenue = bool(set(q.metrics) & {"total_revenue", "average_revenue"})
    out: list[dict[str, Any]] = []
    for goal in goals:  # one index range per goal, not one scan for all
        paths = _page_candidates(store, q, goal)
        if paths == []:
            out.append(dict(zip(GOAL_PARTS, (0, 0, None, 0), strict=True)))
            continue
        sql, params = _goal_sql(q, goal, d, paths)
        row = list(next(iter(store.query(sql, params))))
        if revenue and goal.revenue_prop and row[1]:
            sql, params = _revenue_sql(q, goal, d)
            row[2:] = next(iter(store.query(sql, params)))
        out.append(dict(zip(GOAL_PARTS, row, strict=True)))
    return out
