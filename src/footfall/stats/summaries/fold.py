"""Fold event rows into the summaries: what the catch-up and the rebuild call.

`apply_rows` folds a set of new event rows of one site into the summaries.
The catch-up (`catchup.py`) reads the events after a watermark in rowid
order, in chunks, and `rebuild.py` a site's events; both hand it each stored
event exactly once. It keeps three tables (migration 0010):

- `stats_visits`: one row per visit (`visits.py`);
- `stats_rollup` (counters) and `stats_sketches` (an HLL of the visitors,
  `sketches.py`) per (dimension, local time bucket, value), at grains `h`
  (site totals only) and `d` in the site's time zone (`dimensions.py`).
  Months are not stored: readers sum day rows and union (and cache) a
  month's day sketches, which keeps a fold at two upserts per touched row.
- `stats_goal_rows` (migration 0056): what saved goals are counted from
  (`goals.py`).
  Event rows count events in their bucket; visit rows count a whole visit in
  the bucket where it started.

Cost per event falls with the size of the set folded at once: events are
grouped by everything their rows are keyed on before touching a row, a
visit's events are merged before its stored version is replaced, and each
row gets one upsert and one sketch merge per call.
"""

from __future__ import annotations

import operator
import sqlite3
from collections.abc import Sequence
from typing import Any

import datasketches as ds

from footfall.columns import SUMMARISED_EVENT_PROPERTIES, VISIT_SOURCE_COLUMNS
from footfall.stats.summaries.dimensions import (
    FILTER_DIMS,
    ROW_COLS,
    Acc,
    Clock,
    clock_for,
    row_of,
)
from footfall.stats.summaries.goals import fold_goal_rows
from footfall.stats.summaries.qmark import is_postgres
from footfall.stats.summaries.sketches import HLL_TYPE, LG_K, hll_merge
from footfall.stats.summaries.visits import fold_visits

__all__ = ["IDLE_US", "apply_rows", "close_idle_visits"]

_NAME, _PATH = ROW_COLS.index("name"), ROW_COLS.index("path")
_FILTER_IDX = tuple(ROW_COLS.index(VISIT_SOURCE_COLUMNS[f]) for f in FILTER_DIMS)
# What an event's rows are keyed by besides its local hour and day, each column
# once: its name and path, the summarised event properties, the filter dimensions.
_GROUP_IDX = tuple(
    dict.fromkeys(
        (
            _NAME,
            _PATH,
            *(ROW_COLS.index(p.column) for p in SUMMARISED_EVENT_PROPERTIES),
            *_FILTER_IDX,
        )
    )
)
_group_of = operator.itemgetter(*_GROUP_IDX)  # an event row -> those values, in C
_AT = {col: at for at, col in enumerate(_GROUP_IDX, start=2)}  # where in a group key
_NAME_AT, _PATH_AT = _AT[_NAME], _AT[_PATH]
_EVENT_KEYS = tuple((p.name, _AT[ROW_COLS.index(p.column)]) for p in SUMMARISED_EVENT_PROPERTIES)
_FILTER_KEYS = tuple((f"{f}|page", _AT[i]) for f, i in zip(FILTER_DIMS, _FILTER_IDX, strict=True))
_COUNTERS = ("visits", "bounces", "duration", "pageviews", "events", "requests", "bytes", "errors")
_KEY = "site, dim, fvalue, grain, bucket, value"
_ROLLUP_SQL = (
    f"INSERT INTO stats_rollup ({_KEY}, {', '.join(_COUNTERS)})"  # noqa: S608 - fixed names
    f" VALUES ({', '.join('?' * (6 + len(_COUNTERS)))}) ON CONFLICT ({_KEY}) DO UPDATE SET "
    # The stored row's columns qualified: PostgreSQL finds a bare `visits` ambiguous.
    + ", ".join(f"{c} = stats_rollup.{c} + excluded.{c}" for c in _COUNTERS)
)
_SKETCH_SQL = (
    f"INSERT INTO stats_sketches ({_KEY}, visitors)"  # noqa: S608 - fixed names
    f" VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT ({_KEY}) DO UPDATE"
    " SET visitors = footfall_hll_merge(visitors, excluded.visitors)"
)


def _events(rows: Sequence[Sequence[Any]], clock: Clock, acc: Acc) -> None:
    # Events are first grouped by everything their keys are made of: a chunk of live
    # traffic has far fewer groups than events, and each group touches its rows once.
    groups: dict[tuple[Any, ...], list[Any]] = {}
    local = clock.local
    group_of = _group_of
    for r in rows:
        g = local(r[1]) + group_of(r)
        row = groups.get(g)
        if row is None:
            row = groups[g] = [0, 0, 0, set()]
        row[0] += 1
        if r[2] == "request":
            row[1] += r[6]
            if r[5] >= 500:
                row[2] += 1
        else:
            row[1] += r[6]
        if r[7]:
            row[3].add(r[7])
    for g, (n, nbytes, err, visitors) in groups.items():
        hour, day, name, path = g[0], g[1], g[_NAME_AT], g[_PATH_AT]
        pv = n if name == "pageview" else 0
        req = n if name == "request" else 0
        keys = [("", "", "d", day, ""), ("", "", "h", hour, "")]
        keys += [(dim, "", "d", day, g[at]) for dim, at in _EVENT_KEYS]
        keys += [(fdim, g[at], "d", day, path) for fdim, at in _FILTER_KEYS]
        for key in keys:
            row = acc.get(key)
            if row is None:
                row = acc[key] = [0, 0, 0, 0, 0, 0, 0, 0, set()]
            row[3] += pv
            row[4] += n
            row[5] += req
            row[6] += nbytes
            row[7] += err
            if visitors:
                row[8] |= visitors


def _flush(conn: Any, site: str, acc: Acc) -> None:
    conn.executemany(_ROLLUP_SQL, [(site, *key, *row[:8]) for key, row in acc.items()])
    out = []
    for key, row in acc.items():
        if row[8]:
            sk = ds.hll_sketch(LG_K, HLL_TYPE)
            for visitor in row[8]:
                sk.update(visitor)
            out.append((site, *key, sk.serialize_compact()))
    if not out:
        return
    if is_postgres(conn):
        _merge_sketches_in_python(conn, site, out)
        return
    conn.create_function("footfall_hll_merge", 2, hll_merge, deterministic=True)
    conn.executemany(_SKETCH_SQL, out)


_SKETCH_REPLACE = (
    f"INSERT INTO stats_sketches ({_KEY}, visitors)"  # noqa: S608 - fixed names
    f" VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT ({_KEY}) DO UPDATE"
    " SET visitors = excluded.visitors"
)


def _merge_sketches_in_python(conn: Any, site: str, out: list[tuple[Any, ...]]) -> None:
    """PostgreSQL cannot run `hll_merge` in SQL: read the stored sketches of these keys,
    union them here and write the unions back (the caller holds the catch-up lock, so
    nothing changes them meanwhile)."""
    stored: dict[tuple[Any, ...], bytes] = {}
    keys = zip(*(r[1:6] for r in out), strict=True)
    dims, fvalues, grains, buckets, values = (list(c) for c in keys)
    found = conn.execute(
        "SELECT s.dim, s.fvalue, s.grain, s.bucket, s.value, s.visitors FROM stats_sketches s"
        " JOIN unnest(?::text[], ?::text[], ?::text[], ?::bigint[], ?::text[])"
        " AS k (dim, fvalue, grain, bucket, value)"
        " ON s.dim = k.dim AND s.fvalue = k.fvalue AND s.grain = k.grain"
        " AND s.bucket = k.bucket AND s.value = k.value WHERE s.site = ?",
        (dims, fvalues, grains, buckets, values, site),
    ).fetchall()
    for rec in found:
        stored[tuple(rec[:5])] = bytes(rec[5])
    merged = [(*row[:6], hll_merge(stored.get(tuple(row[1:6])), row[6])) for row in out]
    conn.executemany(_SKETCH_REPLACE, merged)


IDLE_US = 30 * 60 * 1_000_000  # a visit idle this long is over (its exit page is final)


def close_idle_visits(
    conn: sqlite3.Connection, site: str, now_us: int, clock: Clock, acc: Acc
) -> None:
    """Add the visitors of visits idle since before `now_us - IDLE_US` to their exit page's
    sketch, and mark them closed. A late event reopens a visit (the upsert resets
    `closed`), and it is added again when it closes."""
    try:
        rows = conn.execute(
            "SELECT visit_id, visitor_id, start_ts, exit_page FROM stats_visits"
            " WHERE site = ? AND closed = 0 AND end_ts < ?",
            (site, now_us - IDLE_US),
        ).fetchall()
    except sqlite3.OperationalError:  # migration 0011 not applied (connect(migrate=False))
        return
    if not rows:
        return
    for _, visitor, start_ts, exit_page in rows:
        if visitor:
            _, day = clock.local(start_ts)
            row_of(acc, ("exit_page", "", "d", day, exit_page))[8].add(visitor)
    conn.executemany(
        "UPDATE stats_visits SET closed = 1 WHERE site = ? AND visit_id = ?",
        [(site, r[0]) for r in rows],
    )


def apply_rows(conn: sqlite3.Connection, site: str, tz: str, rows: Sequence[Sequence[Any]]) -> None:
    """Add new (non-bot) event rows of one site, in `ROW_COLS` order, to the summaries."""
    if not rows:
        return
    clock = clock_for(tz)
    acc: Acc = {}
    _events(rows, clock, acc)
    fold_visits(conn, site, rows, clock, acc)
    close_idle_visits(conn, site, max(r[1] for r in rows), clock, acc)
    _flush(conn, site, acc)
    fold_goal_rows(conn, site, rows, clock)
