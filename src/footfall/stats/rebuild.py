"""Rebuild a site's summaries from its raw events.

Needed after events were stored before the summaries existed, after a site's
time zone changed, or after `purge`/`delete-visitor` removed raw events (they
mark the site incomplete). The rebuild reads the site's events up to the
catch-up watermark (`footfall.stats.catchup`) in rowid order, in chunks, each
folded in its own short write transaction, so live writers are never blocked
for long; events after the watermark are the catch-up's, so every event is
folded once, and because visits merge order-independently the order in which
the two fold a visit's events does not matter. The site is marked incomplete
until the rebuild finishes, so queries use raw events meanwhile.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from footfall.stats import ch_rollup
from footfall.stats.catchup import KEY, catch_up, summaries_tx
from footfall.stats.qmark import cursor_column, is_postgres, run
from footfall.stats.rollup import ROW_COLS, apply_rows, site_timezone
from footfall.stats.summary import SUMMARY_DIALECTS

__all__ = ["CHUNK", "rebuild"]

CHUNK = 50_000


def _mark_complete(conn: Any, site: str) -> None:
    conn.execute(
        "UPDATE stats_sites SET complete = 1, updated_at = ? WHERE site = ?",
        (int(time.time()), site),
    )


def _sites(store: Any, site: str | None) -> list[str]:
    if site is not None:
        return [site]
    return [r[0] for r in run(store, "SELECT DISTINCT site FROM events")]


def rebuild(
    store: Any, site: str | None = None, progress: Callable[[str, int], None] | None = None
) -> int:
    """Recompute summaries of `site` (default: every site); return events folded in.

    Ends with a catch-up, so the summaries are current when it returns (events
    after the watermark are folded by that, for every site, and counted too).
    """
    if getattr(store, "dialect", "") == "clickhouse":
        return ch_rollup.rebuild(store, site, progress)
    if getattr(store, "dialect", "") not in SUMMARY_DIALECTS:
        raise NotImplementedError("summaries are kept for SQLite, PostgreSQL and ClickHouse")
    cursor_col = cursor_column(store)
    # `+site` (SQLite): walk the cursor range, not the (site, ts) index sorted by rowid.
    site_col = "site" if is_postgres(store) else "+site"
    total = 0
    for name in _sites(store, site):

        def reset(conn: Any, name: str = name) -> int:
            tz = site_timezone(conn, name)
            for table in ("stats_rollup", "stats_sketches", "stats_visits"):
                conn.execute(f"DELETE FROM {table} WHERE site = ?", (name,))  # noqa: S608
            conn.execute(
                "INSERT INTO stats_sites (site, tz, complete, updated_at) VALUES (?, ?, 0, ?)"
                " ON CONFLICT (site) DO UPDATE SET tz = excluded.tz, complete = 0,"
                " updated_at = excluded.updated_at",
                (name, tz, int(time.time())),
            )
            row = conn.execute(
                "SELECT COALESCE((SELECT value FROM stats_state WHERE key = ?),"  # noqa: S608
                f" (SELECT MAX({cursor_col}) FROM events))",
                (KEY,),
            ).fetchone()
            return int(row[0] or 0)

        last = summaries_tx(store, reset)
        tz = run(store, "SELECT tz FROM stats_sites WHERE site = ?", (name,))[0][0]
        cursor = 0
        sql = (
            f"SELECT {cursor_col}, {', '.join(ROW_COLS)} FROM events"  # noqa: S608 - fixed names
            f" WHERE {cursor_col} > ? AND {cursor_col} <= ? AND {site_col} = ? AND is_bot = 0"
            f" ORDER BY {cursor_col} LIMIT ?"
        )
        while True:
            rows = run(store, sql, (cursor, last, name, CHUNK))
            if not rows:
                break
            cursor = rows[-1][0]
            body = [r[1:] for r in rows]
            summaries_tx(store, functools.partial(apply_rows, site=name, tz=tz, rows=body))
            total += len(body)
            if progress is not None:
                progress(name, total)
        summaries_tx(store, functools.partial(_mark_complete, site=name))
    done = total
    total += catch_up(
        store, progress=None if progress is None else lambda n: progress("*", done + n)
    )
    return total
