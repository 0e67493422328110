"""Fold events into whole visits (`stats_visits`) and each visit's share of the rollup rows.

A visit row is merged order-independently (start = the earliest event,
entry/exit = the first/last page view by (ts, id), visit properties from the
first event), so events arriving late or out of order, or a rebuild running
beside live writes, end in the same state.

Visit rows of `stats_rollup` count a whole visit in the bucket where it
started. When a visit grows, its old contribution is replaced by the new one
(counters are exact; when its rows are the same only the difference is
added); sketches only ever add, which is why `exit_page` rows get their
visitor when the visit closes (`fold.close_idle_visits`). A chunk's events of
one visit are merged before its stored version is replaced.
"""

from __future__ import annotations

import operator
import sqlite3
from collections.abc import Sequence
from typing import Any

from footfall.stats.summaries.dimensions import (
    CROSS_DIMS,
    FILTER_DIMS,
    FIRST_VISIT_COL,
    NO_SKETCH,
    VISIT_ATTRS,
    VISIT_DIMS,
    Acc,
    Clock,
    Key,
)
from footfall.stats.summaries.qmark import is_postgres

__all__ = ["fold_visits"]

_VISIT_COLS = (
    "visitor_id",
    "start_ts",
    "start_id",
    "end_ts",
    "entry_ts",
    "entry_id",
    "entry_page",
    "exit_ts",
    "exit_id",
    "exit_page",
    "pageviews",
    "events",
    *VISIT_ATTRS,
)
_VISIT_KEYS: tuple[tuple[str, str, str], ...] = (
    ("visit", "", ""),
    *((d, "", d) for d in VISIT_DIMS),
    *((f"{f}|{b}", f, b) for f in FILTER_DIMS for b in CROSS_DIMS if b != f and b != "page"),
)
_SKETCHED = {k[0]: not any(k[0].endswith(n) for n in NO_SKETCH) for k in _VISIT_KEYS}
# Per position of `_visit_keys`: the day keys, then the hourly visit key (sketched).
_KEY_SKETCHED = (*(_SKETCHED[k[0]] for k in _VISIT_KEYS), True)
_visit_values = operator.itemgetter(*_VISIT_COLS)  # a visit dict -> its row, in C


def _merge_visit(old: dict[str, Any] | None, events: list[Sequence[Any]]) -> dict[str, Any]:
    v = dict(old) if old else None
    for r in sorted(events, key=lambda r: (r[1], r[0])):
        ts, eid = r[1], r[0]
        if v is None:
            v = dict(zip(VISIT_ATTRS, r[FIRST_VISIT_COL:], strict=True))
            v.update(
                visitor_id=r[7],
                start_ts=ts,
                start_id=eid,
                end_ts=ts,
                entry_ts=None,
                entry_id=None,
                entry_page="",
                exit_ts=None,
                exit_id=None,
                exit_page="",
                pageviews=0,
                events=0,
            )
        elif (ts, eid) < (v["start_ts"], v["start_id"]):
            v.update(zip(VISIT_ATTRS, r[FIRST_VISIT_COL:], strict=True))
            v.update(visitor_id=r[7], start_ts=ts, start_id=eid)
        v["end_ts"] = max(v["end_ts"], ts)
        v["events"] += 1
        if r[2] == "pageview":
            v["pageviews"] += 1
            if v["entry_ts"] is None or (ts, eid) < (v["entry_ts"], v["entry_id"]):
                v.update(entry_ts=ts, entry_id=eid, entry_page=r[3])
            if v["exit_ts"] is None or (ts, eid) > (v["exit_ts"], v["exit_id"]):
                v.update(exit_ts=ts, exit_id=eid, exit_page=r[3])
    assert v is not None
    return v


def _visit_keys(v: dict[str, Any], clock: Clock) -> list[Key]:
    hour, day = clock.local(v["start_ts"])
    keys = [(dim, v[f] if f else "", "d", day, v[b] if b else "") for dim, f, b in _VISIT_KEYS]
    keys.append(("visit", "", "h", hour, ""))
    return keys


def _counters(v: dict[str, Any]) -> tuple[int, int, int, int, int]:
    """(visits, bounces, duration, pageviews, events) of one visit."""
    pv, ev = v["pageviews"], v["events"]
    return 1, 1 if pv == 1 and ev == 1 else 0, v["end_ts"] - v["start_ts"], pv, ev


def _add(
    acc: Acc,
    keys: list[Key],
    counters: Sequence[int],
    visitor: str,
    known: set[Key] | frozenset[Any] = frozenset(),
) -> None:
    """Add a visit's counters to its rows (`_visit_keys` order) and its visitor to their
    sketches, except rows in `known` (whose sketch has it already) and `NO_SKETCH` rows."""
    visits, bounce, dur, pv, ev = counters
    get = acc.get
    for key, sketched in zip(keys, _KEY_SKETCHED, strict=True):
        row = get(key)
        if row is None:
            row = acc[key] = [0, 0, 0, 0, 0, 0, 0, 0, set()]
        row[0] += visits
        row[1] += bounce
        row[2] += dur
        row[3] += pv
        row[4] += ev
        if sketched and visitor and key not in known:
            row[8].add(visitor)


def _regrow(acc: Acc, old: dict[str, Any], new: dict[str, Any], clock: Clock) -> None:
    """Replace a stored visit's contribution with its grown version's."""
    old_keys, new_keys = _visit_keys(old, clock), _visit_keys(new, clock)
    a, b = _counters(old), _counters(new)
    same_visitor = old["visitor_id"] == new["visitor_id"]
    if old_keys == new_keys and same_visitor:
        # The usual case (later events of a visit): one pass with the difference,
        # and its visitor is already in these rows' sketches.
        _add(acc, new_keys, [y - x for x, y in zip(a, b, strict=True)], "", frozenset())
        return
    _add(acc, old_keys, [-x for x in a], "")
    _add(acc, new_keys, b, new["visitor_id"], set(old_keys) if same_visitor else frozenset())


def fold_visits(
    conn: sqlite3.Connection, site: str, rows: Sequence[Sequence[Any]], clock: Clock, acc: Acc
) -> None:
    """Merge the events (`ROW_COLS` rows of one site) into their visits' rows, and add
    each visit's change to its rollup rows in `acc`."""
    grouped: dict[str, list[Sequence[Any]]] = {}
    for r in rows:
        if r[8]:
            grouped.setdefault(r[8], []).append(r)
    if not grouped:
        return
    ids = list(grouped)
    existing: dict[str, dict[str, Any]] = {}
    cols = ", ".join(_VISIT_COLS)
    if is_postgres(conn):  # one array parameter: a short statement, parsed once
        found = conn.execute(
            f"SELECT visit_id, {cols} FROM stats_visits"  # noqa: S608 - fixed names
            " WHERE site = ? AND visit_id = ANY(?)",
            (site, ids),
        ).fetchall()
    else:
        found = []
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            sql = (
                f"SELECT visit_id, {cols} FROM stats_visits"  # noqa: S608 - only ? marks
                f" WHERE site = ? AND visit_id IN ({marks})"
            )
            found += conn.execute(sql, [site, *chunk]).fetchall()
    for rec in found:
        existing[rec[0]] = dict(zip(_VISIT_COLS, rec[1:], strict=True))
    out = []
    for vid, evs in grouped.items():
        old = existing.get(vid)
        new = _merge_visit(old, evs)
        if old is None:
            _add(acc, _visit_keys(new, clock), _counters(new), new["visitor_id"])
        else:
            _regrow(acc, old, new, clock)
        out.append((site, vid, *_visit_values(new)))
    conn.executemany(_visits_upsert(conn), out)


def _visits_upsert(conn: Any) -> str:
    """Replace a visit's row whole (a replaced row is open again: `closed` = 0)."""
    cols = ", ".join(_VISIT_COLS)
    marks = ", ".join("?" * (len(_VISIT_COLS) + 2))
    if not is_postgres(conn):
        return f"INSERT OR REPLACE INTO stats_visits (site, visit_id, {cols}) VALUES ({marks})"  # noqa: S608
    updates = ", ".join(f"{c} = excluded.{c}" for c in _VISIT_COLS)
    return (
        f"INSERT INTO stats_visits (site, visit_id, {cols}) VALUES ({marks})"  # noqa: S608
        f" ON CONFLICT (site, visit_id) DO UPDATE SET {updates}, closed = 0"
    )
