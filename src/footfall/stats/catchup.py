"""Summaries trail the writes: fold the events stored after a watermark into them.

The write path only inserts raw events. `stats_state.rollup_rowid` (migration
0012) holds the last events rowid already folded into the summaries; a
catch-up reads the events after it in rowid order, a chunk at a time, folds
them with `apply_rows` and moves the watermark - all in one `BEGIN IMMEDIATE`
transaction. So:

- catch-ups from several threads or processes serialise on SQLite's write
  lock and each event is folded exactly once (the watermark is read inside
  the transaction that moves it); a failed chunk rolls back whole and is
  simply done again;
- rowids grow with each committed insert (writes are serialised too), so
  no event can appear below the watermark later - except when the top rows
  are deleted and SQLite reuses their rowids, which `before_delete` handles;
- big chunks are cheap per event: a visit's events in one chunk are merged
  before its old contribution is subtracted, and each summary row gets one
  upsert and one sketch merge per chunk instead of per write batch.

Who runs it: `footfall serve` in a background thread (`footfall.server.catchup`),
and every stats read (`ensure_current`, called by the engine) before it
answers, so answers include every event stored before the query began.

On PostgreSQL the cursor is `events.seq` (migration 0013), which writers are
given in commit order because they insert under an advisory lock
(`PostgresStore.write`): an uncommitted batch always holds larger values than
every committed one, so none can land below the watermark. A catch-up
transaction takes a second advisory lock (`PostgresStore.rollup_tx`), so
catch-ups fold one at a time, as SQLite's write lock makes them there; the
same folding code runs through `footfall.stats.qmark`.
"""

from __future__ import annotations

import functools
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from typing import Any

from footfall.stats import ch_rollup
from footfall.stats.qmark import cursor_column, is_postgres, run
from footfall.stats.rollup import ROW_COLS, apply_rows, register_site

__all__ = [
    "CHUNK",
    "before_delete",
    "catch_up",
    "ensure_current",
    "fold_chunk",
    "lag",
]

CHUNK = 25_000  # events per transaction: big enough to amortise, short enough a lock hold
KEY = "rollup_rowid"

log = logging.getLogger("footfall.stats")


def _catch_up_errors() -> tuple[type[Exception], ...]:
    """What a store that cannot be written raises (read-only file, hot standby)."""
    found: list[type[Exception]] = [sqlite3.Error]
    try:
        import psycopg

        found.append(psycopg.Error)
    except ImportError:
        pass
    try:
        from clickhouse_driver.errors import Error as ClickHouseError

        found += [ClickHouseError, OSError, EOFError]
    except ImportError:
        pass
    return tuple(found)


_CATCH_UP_ERRORS = _catch_up_errors()

_SELECT = (
    "SELECT {cursor}, site, is_bot, " + ", ".join(ROW_COLS) + " FROM events"  # noqa: S608
    " WHERE {cursor} > ? ORDER BY {cursor} LIMIT ?"
)


def _chunk_size() -> int:
    try:
        return max(1, int(os.environ.get("FOOTFALL_ROLLUP_CHUNK", "") or CHUNK))
    except ValueError:
        return CHUNK


def _supported(store: Any) -> bool:
    return (getattr(store, "dialect", "") == "sqlite" and hasattr(store, "_write_tx")) or (
        is_postgres(store) and hasattr(store, "rollup_tx")
    )


def summaries_tx(store: Any, fn: Callable[[Any], Any]) -> Any:
    """Run `fn(conn)` in the store's transaction for summary writes (one at a time)."""
    if is_postgres(store):
        return store.rollup_tx(fn)
    return store._write_tx(fn)


def fold_chunk(conn: Any, limit: int) -> int:
    """Fold up to `limit` events after the watermark (caller holds the write lock)."""
    row = conn.execute("SELECT value FROM stats_state WHERE key = ?", (KEY,)).fetchone()
    mark = int(row[0]) if row else 0
    cursor = cursor_column(conn)
    rows = conn.execute(_SELECT.format(cursor=cursor), (mark, limit)).fetchall()
    if not rows:
        top = conn.execute(f"SELECT MAX({cursor}) FROM events").fetchone()[0] or 0  # noqa: S608
        if top < mark:  # the top rows went by other means than before_delete
            _set_mark(conn, top)
        return 0
    by_site: dict[str, list[Sequence[Any]]] = {}
    for r in rows:
        body = by_site.get(r[1])
        if body is None:
            body = by_site[r[1]] = []
        if not r[2]:
            body.append(r[3:])
    for site, body in by_site.items():
        apply_rows(conn, site, register_site(conn, site, mark), body)
    _set_mark(conn, rows[-1][0])
    return len(rows)


def _set_mark(conn: sqlite3.Connection, value: int) -> None:
    conn.execute(
        "INSERT INTO stats_state (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (KEY, value),
    )


def lag(store: Any) -> int | None:
    """How many rowids the summaries trail the events by (None: no summaries here).

    One primary-key lookup and SQLite's O(log n) `MAX(rowid)`: cheap enough to
    run before every read.
    """
    if not _supported(store):
        # ClickHouse's views fold every insert as it happens: they never trail.
        return 0 if ch_rollup.has_summaries(store) else None
    cursor = cursor_column(store)
    try:
        ((mark, top),) = run(
            store,
            f"SELECT (SELECT value FROM stats_state WHERE key = ?), (SELECT MAX({cursor}) FROM events)",  # noqa: S608, E501
            (KEY,),
        )
    except _CATCH_UP_ERRORS:  # migrations not applied (connect(migrate=False)): no summaries
        return None
    return int(top or 0) - int(mark or 0)


def catch_up(
    store: Any,
    *,
    chunk: int | None = None,
    max_events: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Fold every event stored after the watermark; return how many were read.

    One write transaction per chunk, so writers wait at most one chunk.
    `max_events` bounds one call (the rest is left for the next one).
    """
    if getattr(store, "dialect", "") == "clickhouse":
        return ch_rollup.compact_due(store)
    behind = lag(store)
    if not behind:  # None (no summaries) or 0 (up to date)
        return 0
    size = chunk or _chunk_size()
    total = 0
    while max_events is None or total < max_events:
        step = size if max_events is None else min(size, max_events - total)
        n: int = summaries_tx(store, functools.partial(fold_chunk, limit=step))
        total += n
        if progress is not None and n:
            progress(total)
        if n < step:
            break
    return total


_WARNED: set[str] = set()


def ensure_current(store: Any) -> None:
    """Called by every stats read before it answers: fold what is new, if anything.

    A store that cannot be written (a read-only file) still answers, from
    summaries as current as the last writer left them; that is logged once.
    """
    if getattr(store, "dialect", "") == "clickhouse":
        ch_rollup.compact_in_background(store)  # reads group the rest live meanwhile
        return
    try:
        catch_up(store)
    except _CATCH_UP_ERRORS as exc:
        where = str(getattr(store, "path", ""))
        if where not in _WARNED:
            _WARNED.add(where)
            log.warning("stats summaries could not catch up (%s): answers may trail writes", exc)


def before_delete(conn: sqlite3.Connection, where: str, params: Sequence[Any]) -> None:
    """`SQLiteStore` delete hook: runs in the delete's transaction, before it.

    The sites losing events get `complete = 0`: their summaries still count the
    deleted events, so queries use raw events until `footfall stats rebuild`.
    If the top rows go, SQLite would reuse their rowids, below the watermark;
    the watermark is lowered to the highest row that stays (every row above it
    is being deleted, so nothing is folded twice).
    """
    if not _has_state(conn):
        return
    sites = [
        r[0]
        for r in conn.execute(f"SELECT DISTINCT site FROM events WHERE {where}", params)  # noqa: S608
    ]
    if not sites:
        return
    conn.executemany(
        "UPDATE stats_sites SET complete = 0, updated_at = ? WHERE site = ?",
        [(int(time.time()), s) for s in sites],
    )
    row = conn.execute("SELECT value FROM stats_state WHERE key = ?", (KEY,)).fetchone()
    mark = int(row[0]) if row else 0
    keep = conn.execute(
        f"SELECT rowid FROM events WHERE NOT ({where}) ORDER BY rowid DESC LIMIT 1",  # noqa: S608
        params,
    ).fetchone()
    top = int(keep[0]) if keep else 0
    if top < mark:
        _set_mark(conn, top)


def _has_state(conn: sqlite3.Connection) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'stats_state'"
    ).fetchone()
    return row is not None


def before_delete_postgres(cur: Any, where: Any, params: Sequence[Any]) -> None:
    """`PostgresStore` delete hook: the sites losing events get `complete = 0`.

    Their summaries still count the deleted events, so their queries read raw
    events until `footfall stats rebuild`. `seq` values are never reused, so
    the watermark stays where it is.
    """
    from psycopg import sql

    found = cur.execute(sql.SQL("SELECT DISTINCT site FROM events") + where, params).fetchall()
    if found:
        cur.executemany(
            "UPDATE stats_sites SET complete = 0, updated_at = %s WHERE site = %s",
            [(int(time.time()), r[0]) for r in found],
        )
