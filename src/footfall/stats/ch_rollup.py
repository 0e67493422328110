"""ClickHouse summaries, the write side: compaction of visit counters, rebuild, deletes.

The materialized views of migration 0002 keep every per-hour counter and
sketch current as blocks are inserted (`footfall.stores.ch_summary_sql`).
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
(`footfall.stats.ch_summary`); the views run after the insert
reached `events`, so a mark older than a compaction's start means the
compaction read those events. The watermark in `stats_state` only saves the
compaction from rescanning marks it has handled; correctness never rests on
it. Several compactions at once write the same rows (the newest wins).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from footfall.stats.dialect import Params
from footfall.stats.dialect_clickhouse import ClickHouseDialect
from footfall.stores import ch_summary_sql as sql

__all__ = [
    "CHUNK_HOURS",
    "SETTLE_S",
    "TAIL_HOURS",
    "compact",
    "compact_due",
    "compact_in_background",
    "has_summaries",
    "has_tables",
    "mark_incomplete",
    "note_purge",
    "pending_hours",
    "rebuild",
    "visits_sql",
]

SETTLE_S = 60  # an insert this old no longer blocks compacting the hours it touched
TAIL_HOURS = 24  # visits last under a day (the raw SQL's TAIL_US)
CHUNK_HOURS = 168  # start hours per compaction query (a week, plus a day each side)
MUTATION_TIMEOUT_S = 600.0
KEY = "compacted_through"
PURGE_KEY = "purged_before"  # events before this (unix us) were purged; `:site` for one site
log = logging.getLogger("footfall.stats")
_HAVE: weakref.WeakSet[Any] = weakref.WeakSet()  # stores known to have the tables


def has_summaries(store: Any) -> bool:
    """Whether `store` is a ClickHouse store whose summaries answer stats.

    Not with a Buffer table in front of `events` (the views see rows only when
    the buffer flushes, and answers must include every accepted event), nor
    with `summaries=off` (no views).
    """
    if getattr(store, "dialect", "") != "clickhouse" or getattr(store, "buffer_seconds", None):
        return False
    if not getattr(store, "summaries", True):  # `summaries=off`: no views, raw SQL
        return False
    return has_tables(store)


def has_tables(store: Any) -> bool:
    """Whether the store's database has the summary tables (migration 0002): then
    every delete must mark sites, whichever store object runs it."""
    if getattr(store, "dialect", "") != "clickhouse":
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


def _now(store: Any) -> int:
    return int(store.query(sql.SERVER_NOW)[0][0])


_last_version = [0]
_version_lock = threading.Lock()


def _version(store: Any) -> int:
    """A row version above everything written so far: this client's microseconds,
    but never below the server's current second (the migration versions rows
    with the server's `now()`, and a client clock behind it would lose), and
    strictly increasing within the process (two writes in one microsecond)."""
    floor = _now(store) * 1_000_000 + 999_999
    with _version_lock:
        v = max(time.time_ns() // 1000, floor, _last_version[0] + 1)
        _last_version[0] = v
    return v


def _watermark(store: Any) -> int:
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


def _past_newest_mark(store: Any, since: int) -> int:
    """The server's time once it is past every mark (inserts in the current
    second are only safe to fold from the next one: marks have 1 s resolution)."""
    rows = store.query(sql.NEWEST_MARK, {"since": since})
    newest = int(rows[0][0] or 0) if rows else 0
    deadline = time.monotonic() + 5
    now = _now(store)
    while now <= newest and time.monotonic() < deadline:
        time.sleep(0.05)
        now = _now(store)
    return now


def pending_hours(store: Any, settle: float = SETTLE_S) -> tuple[dict[str, set[int]], int, int]:
    """({site: start hours to recompute}, server time now, next watermark)."""
    since = _watermark(store)
    now = _now(store) if settle > 0 else _past_newest_mark(store, since)
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


def _compact_site(store: Any, site: str, hours: Iterable[int], at: int) -> int:
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


def settle_seconds() -> float:
    """`$FOOTFALL_CH_SETTLE_SECONDS` (default SETTLE_S): how old inserts must be."""
    try:
        return max(0.0, float(os.environ.get("FOOTFALL_CH_SETTLE_SECONDS", "") or SETTLE_S))
    except ValueError:
        return float(SETTLE_S)


def compact(store: Any, settle: float | None = None) -> int:
    """Recompute the visit counters inserts have changed; return how many hours.

    `settle=0` compacts everything now (tests, benchmarks, the rebuild); None
    takes `settle_seconds()`.
    """
    todo, now, watermark = pending_hours(store, settle_seconds() if settle is None else settle)
    written = sum(_compact_site(store, site, hours, now) for site, hours in todo.items())
    if watermark > _watermark(store):
        store.query(sql.STATE_SET, {"key": KEY, "value": watermark, "version": _version(store)})
    return written


COMPACT_EVERY_S = 5.0  # from the read path and the server's thread, per store object
_last_run: dict[int, float] = {}


def compact_due(store: Any) -> int:
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


def compact_in_background(store: Any) -> bool:
    """Start `compact_due(store)` on a daemon thread unless one is running for it.

    What stats reads call: answers never wait for a compaction (the first one
    over a big import takes a minute), they group the uncompacted hours live.
    """
    if not has_summaries(store):
        return False
    if not getattr(store, "threadsafe", True):  # one connection for all threads (chDB)
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


def mark_incomplete(store: Any, sites: Iterable[str]) -> None:
    """Sites whose summaries no longer match their events (a delete): raw SQL
    answers for them until `footfall stats rebuild`."""
    names = sorted(set(sites))
    if names and has_tables(store):
        store.query(sql.MARK_SITES, {"sites": names, "complete": 0, "version": _version(store)})


def note_purge(store: Any, before_us: int, site: str | None) -> None:
    """A purge by time removes whole old hours: the summaries stay right for
    ranges a day past the cut-off (`ch_summary` checks), so the site stays
    complete - a daily `footfall purge` on 18.16 (no TTL) must not switch
    the summaries off."""
    if has_tables(store):
        key = PURGE_KEY if site is None else f"{PURGE_KEY}:{site}"
        store.query(sql.STATE_SET, {"key": key, "value": before_us, "version": _version(store)})


def _wait_for_mutations(store: Any) -> None:
    deadline = time.monotonic() + MUTATION_TIMEOUT_S
    delay = 0.01
    while store.query(
        "SELECT count() FROM system.mutations WHERE database = currentDatabase() AND is_done = 0"
    )[0][0]:
        if time.monotonic() > deadline:
            raise TimeoutError(f"ClickHouse mutations not done in {MUTATION_TIMEOUT_S}s")
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


def rebuild(
    store: Any, site: str | None = None, progress: Callable[[str, int], None] | None = None
) -> int:
    """Recompute `site`'s summaries (default: every site) from its events; return
    how many events that read.

    The site is marked incomplete first, so queries use raw SQL meanwhile. Pause
    ingestion for the site while it runs: a block inserted between the clearing
    and the re-insert would be counted by its view and by the rebuild.
    """
    names = (
        [site]
        if site is not None
        else [r[0] for r in store.query("SELECT DISTINCT site FROM events")]
    )
    total = 0
    for name in names:
        params = {"site": name}
        mark_incomplete(store, [name])
        for table in sql.SUMMARY_TABLES:
            store.query(f"ALTER TABLE {table} DELETE WHERE site = %(site)s", params)
        _wait_for_mutations(store)
        for table in sql.MV_SELECTS:
            store.query(f"INSERT INTO {table} {sql.mv_select(table)}", params)
        inserted = _now(store)
        while _now(store) <= inserted:  # compacted rows must be newer than these marks
            time.sleep(0.05)
        n = int(store.query(sql.SITE_EVENTS, params)[0][0])
        if n:
            lo, hi, _ = store.query(sql.SITE_SPAN, params)[0]
            hours = range(int(lo) - TAIL_HOURS, int(hi) + TAIL_HOURS + 1)
            _compact_site(store, name, hours, _now(store))
        store.query(sql.MARK_SITES, {"sites": [name], "complete": 1, "version": _version(store)})
        total += n
        if progress is not None:
            progress(name, total)
    return total
