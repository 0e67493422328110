"""ClickHouse summaries, the write side: compaction of visit counters, site marks.

The materialized views of migration 0002 keep every per-hour counter and
sketch current as blocks are inserted (`footfall.stores.ch_views`).
Visit counters cannot be kept that way: a visit's bounce and duration are
known only from all its events, which arrive in many blocks. So
`stats_visit_hours` (visits by the UTC hour they started) is *compacted*:
recomputed from raw events, with the raw SQL's own visit grouping
(`ClickHouseDialect.visits_select`), for the hours that inserts may have
changed - and only once those inserts are `SETTLE_S` old, because an hour
still receiving events would be invalid again at once.

Which hours an insert may change: `stats_hours.last_insert` is the server
time of the newest insert per event hour ("mark"). Like the raw SQL, visits
are taken to last under a day (`TAIL_HOURS`), so an insert into hour h can
change the visits that started in h-24..h+24 (it may join one, or become an
earlier start of one). A compacted row is trusted by the reader only while
every mark within a day of its hour is older than the row's `computed_at`
(`clickhouse_read.py`); the views run after the insert
reached `events`, so a mark older than a compaction's start means the
compaction read those events. The watermark in `stats_state` only saves the
compaction from rescanning marks it has handled; correctness never rests on
it. Several compactions at once write the same rows (the newest wins).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Iterable
from typing import Any

from footfall import settings
from footfall.stats.dialect import Params
from footfall.stats.dialect_clickhouse import ClickHouseDialect
from footfall.stats.summaries import clickhouse_sql as sql
from footfall.stores.base import SUMMARIES_VIEWS, Store

__all__ = [
    "CHUNK_HOURS",
    "PURGE_KEY",
    "SETTLE_S",
    "TAIL_HOURS",
    "compact",
    "compact_due",
    "compact_in_background",
    "compact_site",
    "has_summaries",
    "has_tables",
    "mark_incomplete",
    "note_purge",
    "pending_hours",
    "row_version",
    "server_now",
    "visits_sql",
]

# Seconds: an insert this old no longer blocks compacting the hours it touched.
SETTLE_S = settings.CH_SETTLE_SECONDS.default
TAIL_HOURS = 24  # visits last under a day (the raw SQL's TAIL_US)
CHUNK_HOURS = 168  # start hours per compaction query (a week, plus a day each side)
KEY = "compacted_through"
PURGE_KEY = "purged_before"  # events before this (unix us) were purged; `:site` for one site
log = logging.getLogger("footfall.stats")
_HAVE: weakref.WeakSet[Any] = weakref.WeakSet()  # stores known to have the tables


def has_summaries(store: Store) -> bool:
    """Whether `store` is a ClickHouse store whose summaries answer stats.

    It says so (`Store.summaries`): not with a Buffer table in front of
    `events` (the views see rows only when the buffer flushes, and answers must
    include every accepted event), nor with `summaries=off` (no views). And its
    database has the tables.
    """
    return store.summaries == SUMMARIES_VIEWS and has_tables(store)


def has_tables(store: Store) -> bool:
    """Whether the store's database has the summary tables (migration 0002): then
    every delete must mark sites, whichever store object runs it."""
    if store.dialect != "clickhouse":
        return False
    try:
        if store in _HAVE:
            return True
    except TypeError:  # not weakly referenceable: ask every time
        pass
    try:
        store.query("SELECT count() FROM stats_state WHERE key = %(key)s", {"key": KEY})
    except Exception:  # not migrated (connect(migrate=False)) or a server without the tables
        return False
    try:
        _HAVE.add(store)
    except TypeError:
        pass
    return True


def server_now(store: Store) -> int:
    """The ClickHouse server's clock, in unix seconds (marks are in its time)."""
    return int(store.query(sql.SERVER_NOW)[0][0])


_last_version = [0]
_version_lock = threading.Lock()


def row_version(store: Store) -> int:
    """A row version above everything written so far: this client's microseconds,
    but never below the server's current second (the migration versions rows
    with the server's `now()`, and a client clock behind it would lose), and
    strictly increasing within the process (two writes in one microsecond)."""
    floor = server_now(store) * 1_000_000 + 999_999
    with _version_lock:
        v = max(time.time_ns() // 1000, floor, _last_version[0] + 1)
        _last_version[0] = v
    return v


def _watermark(store: Store) -> int:
    rows = store.query(sql.STATE_GET, {"key": KEY})
    return int(rows[0][0]) if rows else 0


def _runs(hours: Iterable[int], most: int) -> list[tuple[int, int]]:
    """Sorted hours as [first, end) runs of consecutive hours. A run longer than
    `most` is cut only at a UTC midnight, so every day lies within one run (its
    day rows need all 24 hours of one computation)."""
    out: list[tuple[int, int]] = []
    for h in sorted(set(hours)):
        if out and out[-1][1] == h and (h % 24 or h - out[-1][0] < most):
            out[-1] = (out[-1][0], h + 1)
        else:
            out.append((h, h + 1))
    return out


def _spread(marks: Iterable[int]) -> set[int]:
    """The start hours inserts into these event hours may change: a new event
    joins a visit that started up to a day before it, or becomes the new start
    of one that started up to a day after it."""
    return {m + d for m in marks for d in range(-TAIL_HOURS, TAIL_HOURS + 1)}


def _past_newest_mark(store: Store, since: int) -> int:
    """The server's time once it is past every mark (inserts in the current
    second are only safe to fold from the next one: marks have 1 s resolution)."""
    rows = store.query(sql.NEWEST_MARK, {"since": since})
    newest = int(rows[0][0] or 0) if rows else 0
    deadline = time.monotonic() + 5
    now = server_now(store)
    while now <= newest and time.monotonic() < deadline:
        time.sleep(0.05)
        now = server_now(store)
    return now


def pending_hours(store: Store, settle: float = SETTLE_S) -> tuple[dict[str, set[int]], int, int]:
    """({site: start hours to recompute}, server time now, next watermark)."""
    since = _watermark(store)
    now = server_now(store) if settle > 0 else _past_newest_mark(store, since)
    cut = now - int(settle)
    todo: dict[str, set[int]] = {}
    fresh: dict[str, set[int]] = {}
    first_fresh: int | None = None
    for site, hour, at in store.query(sql.PENDING_MARKS, {"since": since}):
        hour, at = int(hour), int(at)
        todo.setdefault(site, set()).add(hour)
        if at >= cut:
            fresh.setdefault(site, set()).add(hour)
            first_fresh = at if first_fresh is None else min(first_fresh, at)
    out = {}
    for site, marks in todo.items():
        # Hours a fresh insert may still change wait; its mark stays pending
        # (the watermark stops before it), and its window covers them later.
        blocked = _spread(fresh.get(site, ()))
        hours = _spread(marks) - blocked
        # A UTC day none of whose hours waits is recomputed whole, so it gets day
        # rows: on a live site its hours settle one by one, and a day's rows need
        # all 24 from one computation.
        for day in {h // 24 for h in hours}:
            whole = set(range(day * 24, day * 24 + 24))
            if not whole & blocked:
                hours |= whole
        if hours:
            out[site] = hours
    watermark = max(since, cut if first_fresh is None else first_fresh)
    return out, now, watermark


def compact_site(store: Store, site: str, hours: Iterable[int], at: int) -> int:
    """Recompute the visit counters and breakdowns of `site`'s start `hours` as of
    server time `at`; return how many hours."""
    written = 0
    totals = visits_sql([])
    dims = visits_sql(["visitor_id", *sql.VISIT_DIMS])
    for h0, h1 in _runs(hours, CHUNK_HOURS):
        params = {
            "site": site,
            "at": at,
            "h0": h0,
            "n": h1 - h0,
            "slo": h0 * sql.HOUR_US,
            "shi": h1 * sql.HOUR_US,
            "elo": h0 * sql.HOUR_US - sql.DAY_US,
            "ehi": h1 * sql.HOUR_US + sql.DAY_US,
        }
        # Breakdowns first: readers take them only with the totals row of the
        # same computation, so until that row lands they read the previous one.
        store.query(sql.COMPACT_EVENT_DIMS, params)
        store.query(sql.COMPACT_DIMS.format(visits=dims), params)
        d0, d1 = -(-h0 // 24) * 24, h1 // 24 * 24  # the whole UTC days of the run
        if d1 > d0:
            for table in sql.DIM_TABLES:
                store.query(sql.roll_days_sql(table), {**params, "d0": d0, "d1": d1})
        store.query(sql.COMPACT_VISITS.format(visits=totals), params)
        written += h1 - h0
    return written


def visits_sql(columns: list[str]) -> str:
    """The raw SQL's visit grouping over COMPACT_EVENTS, with these visit columns."""
    dialect = ClickHouseDialect()
    found = dialect.visits_select(sql.COMPACT_EVENTS, columns, Params(dialect))
    assert found is not None  # ClickHouse groups visits itself
    return found


def compact(store: Store, settle: float | None = None) -> int:
    """Recompute the visit counters inserts have changed; return how many hours.

    `settle=0` compacts everything now (tests, benchmarks, the rebuild); None
    takes `$FOOTFALL_CH_SETTLE_SECONDS` (default `SETTLE_S`).
    """
    if settle is None:
        settle = settings.CH_SETTLE_SECONDS()
    todo, now, watermark = pending_hours(store, settle)
    written = sum(compact_site(store, site, hours, now) for site, hours in todo.items())
    if watermark > _watermark(store):
        store.query(sql.STATE_SET, {"key": KEY, "value": watermark, "version": row_version(store)})
    return written


COMPACT_EVERY_S = 5.0  # from the read path and the server's thread, per store object
_last_run: dict[int, float] = {}


def compact_due(store: Store) -> int:
    """`compact(store)` unless this store object ran it in the last COMPACT_EVERY_S
    (every stats read calls this; the check for pending marks is a table scan)."""
    if not has_summaries(store):
        return 0
    now = time.monotonic()
    if now - _last_run.get(id(store), -COMPACT_EVERY_S) < COMPACT_EVERY_S:
        return 0
    _last_run[id(store)] = now
    return compact(store)


_running: set[int] = set()  # stores with a background compaction under way
_running_lock = threading.Lock()


def compact_in_background(store: Store) -> bool:
    """Start `compact_due(store)` on a daemon thread unless one is running for it.

    What stats reads call: answers never wait for a compaction (the first one
    over a big import takes a minute), they group the uncompacted hours live.
    """
    if not has_summaries(store):
        return False
    if not store.threadsafe:  # one connection for all threads (chDB)
        compact_due(store)
        return False
    key = id(store)
    with _running_lock:
        if key in _running:
            return False
        _running.add(key)

    def run() -> None:
        try:
            compact_due(store)
        except Exception:  # logged, retried by the next read or the server thread
            log.exception("ClickHouse summaries: compaction failed")
        finally:
            with _running_lock:
                _running.discard(key)

    threading.Thread(target=run, name="footfall-ch-compact", daemon=True).start()
    return True


def mark_incomplete(store: Store, sites: Iterable[str]) -> None:
    """Sites whose summaries no longer match their events (a delete): raw SQL
    answers for them until `footfall stats rebuild`."""
    names = sorted(set(sites))
    if names and has_tables(store):
        store.query(sql.MARK_SITES, {"sites": names, "complete": 0, "version": row_version(store)})


def note_purge(store: Store, before_us: int, site: str | None) -> None:
    """A purge by time removes whole old hours: the summaries stay right for
    ranges a day past the cut-off (`clickhouse_read` checks), so the site stays
    complete - a daily `footfall purge` on 18.16 (no TTL) must not switch
    the summaries off."""
    if has_tables(store):
        key = PURGE_KEY if site is None else f"{PURGE_KEY}:{site}"
        store.query(sql.STATE_SET, {"key": key, "value": before_us, "version": row_version(store)})
