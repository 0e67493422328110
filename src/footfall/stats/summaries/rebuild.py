"""Rebuild a site's summaries from its raw events (`footfall stats rebuild`).

Needed after events were stored before the summaries existed, after a site's
time zone changed, or after `purge`/`delete-visitor` removed raw events (they
mark the site incomplete).

SQLite and PostgreSQL: the rebuild reads the site's events up to the
catch-up watermark (`catchup.py`) in cursor order, in chunks, each folded in
its own short write transaction, so live writers are never blocked for long;
events after the watermark are the catch-up's, so every event is folded once,
and because visits merge order-independently the order in which the two fold
a visit's events does not matter. The site is marked incomplete until the
rebuild finishes, so queries use raw events meanwhile.

ClickHouse: the site's summary rows are deleted, its events run through the
views' own SELECTs (`footfall.stores.ch_views.mv_select`), so the two can
never count differently, and its hours compacted.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from footfall.stats.summaries import clickhouse_compact
from footfall.stats.summaries import clickhouse_sql as ch_sql
from footfall.stats.summaries.catchup import KEY, catch_up, summaries_tx
from footfall.stats.summaries.dimensions import ROW_COLS
from footfall.stats.summaries.fold import apply_rows
from footfall.stats.summaries.qmark import cursor_column, run
from footfall.stats.summaries.site_status import mark_complete, site_timezone
from footfall.stores import ch_views
from footfall.stores.base import SUMMARIES_FOLDED, Store

__all__ = ["CHUNK", "rebuild"]

CHUNK = 50_000
MUTATION_TIMEOUT_S = 600.0  # longest wait for ClickHouse to delete a site's summary rows


def _sites(store: Store, site: str | None) -> list[str]:
    if site is not None:
        return [site]
    return [r[0] for r in run(store, "SELECT DISTINCT site FROM events")]


def rebuild(
    store: Store, site: str | None = None, progress: Callable[[str, int], None] | None = None
) -> int:
    """Recompute summaries of `site` (default: every site); return events folded in.

    Ends with a catch-up, so the summaries are current when it returns (events
    after the watermark are folded by that, for every site, and counted too).
    """
    if store.dialect == "clickhouse":
        return _rebuild_clickhouse(store, site, progress)
    if store.summaries != SUMMARIES_FOLDED:
        raise NotImplementedError("summaries are kept for SQLite, PostgreSQL and ClickHouse")
    postgres = store.dialect == "postgres"
    cursor_col = cursor_column(postgres)
    # `+site` (SQLite): walk the cursor range, not the (site, ts) index sorted by rowid.
    site_col = "site" if postgres else "+site"
    total = 0
    for name in _sites(store, site):

        def reset(conn: Any, name: str = name) -> int:
            tz = site_timezone(conn, name)
            for table in ("stats_rollup", "stats_sketches", "stats_visits", "stats_goal_rows"):
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
        summaries_tx(store, functools.partial(mark_complete, site=name))
    done = total
    total += catch_up(
        store, progress=None if progress is None else lambda n: progress("*", done + n)
    )
    return total


def _wait_for_mutations(store: Store) -> None:
    deadline = time.monotonic() + MUTATION_TIMEOUT_S
    delay = 0.01
    while store.query(
        "SELECT count() FROM system.mutations WHERE database = currentDatabase() AND is_done = 0"
    )[0][0]:
        if time.monotonic() > deadline:
            raise TimeoutError(f"ClickHouse mutations not done in {MUTATION_TIMEOUT_S}s")
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


def _clear_site(store: Store, site: str) -> None:
    """Delete the site's summary rows and wait for the mutations to finish."""
    from footfall.stores.clickhouse import ClickHouseStore  # the clickhouse extra

    if isinstance(store, ClickHouseStore):  # on a cluster, each shard's local tables
        store.delete_site_rows(ch_sql.SUMMARY_TABLES, site)
        return
    for table in ch_sql.SUMMARY_TABLES:
        store.query(f"ALTER TABLE {table} DELETE WHERE site = %(site)s", {"site": site})
    _wait_for_mutations(store)


def _rebuild_clickhouse(
    store: Store, site: str | None, progress: Callable[[str, int], None] | None
) -> int:
    """Recompute `site`'s ClickHouse summaries (default: every site) from its events;
    return how many events that read.

    The site is marked incomplete first, so queries use raw SQL meanwhile. Pause
    ingestion for the site while it runs: a block inserted between the clearing
    and the re-insert would be counted by its view and by the rebuild.
    """
    now = clickhouse_compact.server_now
    names = (
        [site]
        if site is not None
        else [r[0] for r in store.query("SELECT DISTINCT site FROM events")]
    )
    total = 0
    for name in names:
        params = {"site": name}
        clickhouse_compact.mark_incomplete(store, [name])
        _clear_site(store, name)
        for table in ch_views.MV_SELECTS:
            store.query(f"INSERT INTO {table} {ch_views.mv_select(table)}", params)
        inserted = now(store)
        while now(store) <= inserted:  # compacted rows must be newer than these marks
            time.sleep(0.05)
        n = int(store.query(ch_sql.SITE_EVENTS, params)[0][0])
        if n:
            lo, hi, _ = store.query(ch_sql.SITE_SPAN, params)[0]
            tail = clickhouse_compact.TAIL_HOURS
            hours = range(int(lo) - tail, int(hi) + tail + 1)
            clickhouse_compact.compact_site(store, name, hours, now(store))
        version = clickhouse_compact.row_version(store)
        store.query(ch_sql.MARK_SITES, {"sites": [name], "complete": 1, "version": version})
        total += n
        if progress is not None:
            progress(name, total)
    return total
