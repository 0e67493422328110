"""Realtime: who is on the site now (events in the last 5 minutes, bots excluded)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from footfall.stores.rows import to_micros

__all__ = ["REALTIME_WINDOW", "current_pages", "realtime_visitors"]

REALTIME_WINDOW = timedelta(minutes=5)


def _since(now: datetime | None) -> int:
    return to_micros((now or datetime.now(timezone.utc)) - REALTIME_WINDOW)


def realtime_visitors(store: Any, site: str, now: datetime | None = None) -> int:
    """Distinct visitors with an event in the last 5 minutes."""
    rows = store.query(
        "SELECT COUNT(DISTINCT visitor_id) FROM events"
        " WHERE site = ? AND ts >= ? AND is_bot = 0 AND visitor_id <> ''",
        (site, _since(now)),
    )
    return int(rows[0][0] or 0)


def current_pages(
    store: Any, site: str, now: datetime | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """The page each current visit is on (its latest page view), with visitor counts."""
    sql = (
        "WITH recent AS (SELECT visit_id, visitor_id, path, ROW_NUMBER() OVER"
        " (PARTITION BY visit_id ORDER BY ts DESC, id DESC) AS rn FROM events"
        " WHERE site = ? AND ts >= ? AND is_bot = 0 AND name = 'pageview' AND visit_id <> '')"
        " SELECT path, COUNT(DISTINCT visitor_id) AS n FROM recent WHERE rn = 1"
        " GROUP BY path ORDER BY n DESC, path LIMIT ?"
    )
    rows = store.query(sql, (site, _since(now), int(limit)))
    return [{"page": r[0], "visitors": int(r[1])} for r in rows]
