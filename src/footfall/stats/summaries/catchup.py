"""Summaries trail the writes: fold the events stored after a watermark into them.

The write path only inserts raw events. `stats_state.rollup_rowid` (migration
0012) holds the last events rowid already folded into the summaries; a
catch-up reads the events after it in rowid order, a chunk at a time, folds
them with `fold.apply_rows` and moves the watermark - all in one
`BEGIN IMMEDIATE` transaction. So:

- catch-ups from several threads or processes serialise on SQLite's write
  lock and each event is folded exactly once (the watermark is read inside
  the transaction that moves it); a failed chunk rolls back whole and is
  simply done again;
- rowids grow with each committed insert (writes are serialised too), so
  no event can appear below the watermark later - except when the top rows
  are deleted and SQLite reuses their rowids, which `deletes.py` handles;
- big chunks are cheap per event: a visit's events in one chunk are merged
  before its old contribution is subtracted, and each summary row gets one
  upsert and one sketch merge per chunk instead of per write batch.

Who runs it: `footfall serve` in a background thread (`thread.py`), and
every stats read (`ensure_current`, called by the engine) before it answers,
so answers include every event stored before the query began. A read under a
time budget (the stats API) folds for at most `INLINE_SECONDS` itself; a
bigger backlog is handed to a background fold and the read is refused with
`CatchingUp` (503 with Retry-After), never answered from stale summaries.

On PostgreSQL the cursor is `events.seq` (migration 0013), which writers are
given in commit order because they insert under an advisory lock
(`PostgresStore.write`): an uncommitted batch always holds larger values than
every committed one, so none can land below the watermark. A catch-up runs in
the store's `serial_transaction` (a second advisory lock), so catch-ups fold
one at a time, as SQLite's write lock makes them there; the same folding code
runs through `qmark.py`.

ClickHouse folds inserts itself (materialized views); its catch-up is the
compaction of visit counters (`clickhouse_compact.py`).
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from footfall import settings
from footfall.errors import FootfallError
from footfall.stats.summaries import clickhouse_compact
from footfall.stats.summaries.dimensions import ROW_COLS
from footfall.stats.summaries.fold import apply_rows
from footfall.stats.summaries.qmark import QmarkConnection, cursor_column, is_postgres, run
from footfall.stats.summaries.site_status import register_site
from footfall.stores import budget
from footfall.stores.base import SUMMARIES_FOLDED, Store

__all__ = [
    "CHUNK",
    "KEY",
    "CatchingUp",
    "catch_up",
    "ensure_current",
    "fold_chunk",
    "fold_in_background",
    "lag",
    "set_watermark",
    "summaries_tx",
    "wait_for_background",
]

# Events per transaction: big enough to amortise, short enough a lock hold.
CHUNK = settings.ROLLUP_CHUNK.default
KEY = "rollup_rowid"
# A read under a time budget folds at most about this long itself (plus one
# chunk of INLINE_CHUNK events), then hands the rest to a background fold.
INLINE_SECONDS = 2.0
INLINE_CHUNK = 5_000
FOLD_RATE = 20_000  # events/s assumed for Retry-After before one was measured
MAX_RETRY_AFTER = 60  # seconds

log = logging.getLogger("footfall.stats")

T = TypeVar("T")

_SELECT = (
    "SELECT {cursor}, site, is_bot, " + ", ".join(ROW_COLS) + " FROM events"  # noqa: S608
    " WHERE {cursor} > ? ORDER BY {cursor} LIMIT ?"
)


def summaries_tx(store: Store, fn: Callable[[Any], T]) -> T:
    """Run `fn(conn)` in the store's transaction for summary writes (one at a time),
    `conn` taking sqlite3's `?` SQL on either store."""
    if store.dialect == "postgres":
        return store.serial_transaction(lambda conn: fn(QmarkConnection(conn)))
    return store.serial_transaction(fn)


def fold_chunk(conn: Any, limit: int) -> int:
    """Fold up to `limit` events after the watermark (caller holds the write lock)."""
    row = conn.execute("SELECT value FROM stats_state WHERE key = ?", (KEY,)).fetchone()
    mark = int(row[0]) if row else 0
    cursor = cursor_column(is_postgres(conn))
    rows = conn.execute(_SELECT.format(cursor=cursor), (mark, limit)).fetchall()
    if not rows:
        top = conn.execute(f"SELECT MAX({cursor}) FROM events").fetchone()[0] or 0  # noqa: S608
        if top < mark:  # the top rows went by other means than a delete hook
            set_watermark(conn, top)
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
    set_watermark(conn, rows[-1][0])
    return len(rows)


def set_watermark(conn: Any, value: int) -> None:
    """Move the catch-up's watermark to `value` (inside a summaries transaction)."""
    conn.execute(
        "INSERT INTO stats_state (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (KEY, value),
    )


def lag(store: Store) -> int | None:
    """How many rowids the summaries trail the events by (None: no summaries here).

    One primary-key lookup and SQLite's O(log n) `MAX(rowid)`: cheap enough to
    run before every read.
    """
    if store.summaries != SUMMARIES_FOLDED:
        # ClickHouse's views fold every insert as it happens: they never trail.
        return 0 if clickhouse_compact.has_summaries(store) else None
    cursor = cursor_column(store.dialect == "postgres")
    try:
        ((mark, top),) = run(
            store,
            f"SELECT (SELECT value FROM stats_state WHERE key = ?), (SELECT MAX({cursor}) FROM events)",  # noqa: S608, E501
            (KEY,),
        )
    except store.driver_errors:  # migrations not applied (connect(migrate=False)): no summaries
        return None
    return int(top or 0) - int(mark or 0)


def catch_up(
    store: Store,
    *,
    chunk: int | None = None,
    max_events: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Fold every event stored after the watermark; return how many were read.

    One write transaction per chunk, so writers wait at most one chunk.
    `max_events` bounds one call (the rest is left for the next one).
    """
    if store.dialect == "clickhouse":
        return clickhouse_compact.compact_due(store)
    behind = lag(store)
    if not behind:  # None (no summaries) or 0 (up to date)
        return 0
    size = chunk or settings.ROLLUP_CHUNK()
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


class CatchingUp(FootfallError):
    """The summaries trail by more than a read folds itself: answer 503 with Retry-After."""

    def __init__(self, pending: int, retry_after: int) -> None:
        super().__init__(
            f"the stats summaries are catching up with {pending:,} new events;"
            f" retry in {retry_after} s"
        )
        self.pending = pending
        self.retry_after = retry_after


_WARNED: set[str] = set()
# Stores (by id) with a background fold running, and the event set when it ends.
_background: dict[int, threading.Event] = {}
_background_lock = threading.Lock()


def ensure_current(store: Store) -> None:
    """Called by every stats read before it answers: fold what is new, if anything.

    Outside a time budget everything new is folded. Under one (the stats API)
    the read folds for about `INLINE_SECONDS` at most; if events remain, a
    background fold takes them over and `CatchingUp` is raised, so an answer
    is either complete or refused.

    A store that cannot be written (a read-only file) still answers, from
    summaries as current as the last writer left them; that is logged once.
    """
    if store.dialect == "clickhouse":
        clickhouse_compact.compact_in_background(store)  # reads group the rest live meanwhile
        return
    try:
        if budget.current() is None or not store.threadsafe:
            catch_up(store)
        else:
            _fold_bounded(store)
    except store.driver_errors as exc:
        where = store.location
        if where not in _WARNED:
            _WARNED.add(where)
            log.warning("stats summaries could not catch up (%s): answers may trail writes", exc)


def _fold_bounded(store: Store) -> None:
    """Fold for up to INLINE_SECONDS, or wait that long for a running background fold."""
    if not lag(store):
        return
    started = time.monotonic()
    folded = 0
    # When an earlier read handed the backlog over, wait for that fold instead.
    if wait_for_background(store, INLINE_SECONDS):
        while time.monotonic() - started < INLINE_SECONDS:
            n = catch_up(store, chunk=INLINE_CHUNK, max_events=INLINE_CHUNK)
            folded += n
            if n < INLINE_CHUNK:
                return  # up to date
    pending = lag(store) or 0
    if pending <= 0:
        return
    fold_in_background(store)
    spent = time.monotonic() - started
    rate = folded / spent if folded and spent > 0 else FOLD_RATE
    retry = max(1, min(MAX_RETRY_AFTER, math.ceil(pending / rate)))
    raise CatchingUp(pending, retry)


def wait_for_background(store: Store, timeout: float) -> bool:
    """Wait up to `timeout` s for the background fold of `store`; True when none runs."""
    with _background_lock:
        done = _background.get(id(store))
    return done is None or done.wait(timeout)


def fold_in_background(store: Store) -> None:
    """Fold every new event on a daemon thread, unless one already does for `store`."""
    key = id(store)
    with _background_lock:
        if key in _background:
            return
        done = _background[key] = threading.Event()

    def run() -> None:
        try:
            catch_up(store, chunk=INLINE_CHUNK)
        except Exception:  # logged; the next read starts another
            log.exception("stats summaries: background catch-up failed")
        finally:
            with _background_lock:
                _background.pop(key, None)
            done.set()

    threading.Thread(target=run, name="footfall-read-catch-up", daemon=True).start()
