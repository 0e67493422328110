"""Which sites the summaries cover, in which time zone, and whether completely.

`stats_sites` holds a row per site the fold has seen: the zone its buckets
are in and `complete`. A site is incomplete while its summaries may differ
from its events - events stored before summaries existed, deleted events they
still count, a changed time zone, a rebuild under way - and its queries then
read raw events until `footfall stats rebuild`.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any
from zoneinfo import ZoneInfo

from footfall.stats.summaries.qmark import cursor_column, is_postgres, run
from footfall.stores.base import SUMMARIES_FOLDED, Store

__all__ = [
    "incomplete_sites",
    "mark_complete",
    "register_site",
    "site_complete",
    "site_timezone",
]


def site_timezone(conn: sqlite3.Connection, site: str) -> str:
    """The site's configured time zone (the collector's `sites` table), or UTC."""
    try:
        row = conn.execute("SELECT timezone FROM sites WHERE domain = ?", (site,)).fetchone()
    except sqlite3.OperationalError:
        return "UTC"
    tz = row[0] if row and row[0] else "UTC"
    try:
        ZoneInfo(tz)
    except Exception:
        return "UTC"
    return str(tz)


def register_site(conn: sqlite3.Connection, site: str, mark: int) -> str:
    """The zone the site's summaries use; registers a site the first time it is folded.

    `mark` is the watermark before this chunk: a site with events at or below it
    (stored before summaries existed) starts incomplete, so queries use raw events
    until `footfall stats rebuild`.
    """
    current = site_timezone(conn, site)
    row = conn.execute("SELECT tz, complete FROM stats_sites WHERE site = ?", (site,)).fetchone()
    if row is None:
        cursor = cursor_column(is_postgres(conn))
        older = conn.execute(
            f"SELECT 1 FROM events WHERE site = ? AND {cursor} <= ? LIMIT 1",  # noqa: S608
            (site, mark),
        ).fetchone()
        conn.execute(
            "INSERT INTO stats_sites (site, tz, complete, goal_rows, updated_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (site, current, 0 if older else 1, 0 if older else 1, int(time.time())),
        )
        return current
    if row[0] != current and row[1]:
        # The site's zone changed: keep bucketing in the old one until a rebuild.
        conn.execute("UPDATE stats_sites SET complete = 0 WHERE site = ?", (site,))
    return str(row[0])


def mark_complete(conn: Any, site: str) -> None:
    """The site's summaries match its events again (the rebuild's last step)."""
    conn.execute(
        "UPDATE stats_sites SET complete = 1, goal_rows = 1, updated_at = ? WHERE site = ?",
        (int(time.time()), site),
    )


def site_complete(store: Store, site: str) -> bool:
    """Whether the site's summaries (and `stats_visits`) cover all its events."""
    try:
        rows = run(store, "SELECT complete FROM stats_sites WHERE site = ?", (site,))
    except Exception:
        return False
    return bool(rows) and bool(rows[0][0])


def incomplete_sites(store: Store) -> list[str]:
    """The sites whose queries read raw events until a rebuild, where the catch-up
    keeps summaries (none elsewhere, or in a store not migrated)."""
    if store.summaries != SUMMARIES_FOLDED:
        return []
    try:
        rows = run(store, "SELECT site FROM stats_sites WHERE complete = 0 ORDER BY site")
    except store.driver_errors:  # no summaries in this database (not migrated)
        return []
    return [r[0] for r in rows]
