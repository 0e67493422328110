# ruff: noqa: S608 - fixed SQL; values are bound (Params)
"""Realtime: who is on the site now (events in the last 5 minutes, bots excluded)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from footfall.stats.dialect import Params
from footfall.stats.engine import dialect_for
from footfall.stores.rows import to_micros

__all__ = ["REALTIME_WINDOW", "current_pages", "realtime_visitors"]

REALTIME_WINDOW = timedelta(minutes=5)


def _since(now: datetime | None) -> int:
    return to_micros((now or datetime.now(timezone.utc)) - REALTIME_WINDOW)


def realtime_visitors(store: Any, site: str, now: datetime | None = None) -> int:
    """Distinct visitors with an event in the last 5 minutes."""
    d = dialect_for(store)
    p = Params(d)
    rows = store.query(
        f"SELECT COUNT(DISTINCT visitor_id) FROM {d.events_table} WHERE site = {p.add(site)}"
        f" AND ts >= {p.add(_since(now))} AND is_bot = 0 AND visitor_id <> ''",
        p.values,
    )
    return int(rows[0][0] or 0)


def current_pages(
    store: Any, site: str, now: datetime | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """The page each current visit is on (its latest page view), with visitor counts."""
    d = dialect_for(store)
    p = Params(d)
    recent = (
        f"SELECT id, ts, name, path, visitor_id, visit_id FROM {d.events_table}"
        f" WHERE site = {p.add(site)}"
        f" AND ts >= {p.add(_since(now))} AND is_bot = 0 AND name = 'pageview'"
        " AND visit_id <> ''"
    )
    # The dialect's one-row-per-visit GROUP BY where it has one (ClickHouse has
    # no window functions before 21.9): the exit page is the latest page view.
    grouped = d.visits_select(f"({recent}) r", ["exit_page", "visitor_id"], p)
    if grouped is None:
        sql = (
            "WITH recent AS (SELECT visit_id, visitor_id, path AS exit_page, ROW_NUMBER() OVER"
            f" (PARTITION BY visit_id ORDER BY ts DESC, id DESC) AS rn FROM ({recent}) r)"
            " SELECT exit_page, COUNT(DISTINCT visitor_id) AS n FROM recent WHERE rn = 1"
        )
    else:
        sql = f"SELECT exit_page, COUNT(DISTINCT visitor_id) AS n FROM ({grouped}) v"
    sql += f" GROUP BY exit_page ORDER BY n DESC, exit_page LIMIT {p.add(int(limit))}"
    rows = store.query(sql, p.values)
    return [{"page": r[0], "visitors": int(r[1])} for r in rows]
