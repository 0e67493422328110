"""Summaries: visits and per-dimension rollups, folded in from raw event rows.

`apply_rows` folds a set of new event rows of one site into the summaries.
It is called by the catch-up (`footfall.stats.catchup`), which reads the
events after a watermark in rowid order, in chunks, and by `rebuild`; both
hand it each stored event exactly once. It keeps three tables (migration 0010):

- `stats_visits`: one row per visit, merged order-independently (start = the
  earliest event, entry/exit = first/last page view by (ts, id)), so events
  arriving late or out of order, or a `rebuild` running beside live writes,
  end in the same state.
- `stats_rollup` (counters) and `stats_sketches` (an HLL of the visitors)
  per (dimension, local time bucket, value), at grains `h` (site totals
  only) and `d` in the site's time zone. Months are not stored: readers sum
  day rows and union (and cache) a month's day sketches, which keeps a
  fold at two upserts per touched row.
  Event rows count events in their bucket; visit rows count a whole visit
  in the bucket where it started. When a visit grows, its old contribution
  is replaced by the new one (counters are exact; when its rows are the same
  only the difference is added); sketches only ever add, which is why
  `exit_page` rows get their visitor when the visit closes.

Cost per event falls with the size of the set folded at once: events are
grouped by everything their rows are keyed on before touching a row, a
visit's events are merged before its stored version is replaced, and each
row gets one upsert and one sketch merge per call.

Unique visitors are estimated with Apache DataSketches HLL (lg_k=16, relative
standard error 0.4 %; exact below a few thousand visitors per row).
"""

from __future__ import annotations

import operator
import sqlite3
import time
from collections.abc import Sequence
from datetime import date, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import datasketches as ds

from footfall.stats.qmark import cursor_column, is_postgres

__all__ = [
    "CROSS_DIMS",
    "EVENT_DIMS",
    "FILTER_DIMS",
    "LG_K",
    "VISIT_DIMS",
    "apply_rows",
    "register_site",
    "site_timezone",
]

LG_K = 16
HLL_TYPE = ds.tgt_hll_type.HLL_4
HOUR_US = 3_600_000_000
DAY_US = 86_400_000_000

# Column order of the rows the aggregator reads (from Events or straight from SQL).
ROW_COLS = (
    "id",
    "ts",
    "name",
    "path",
    "host",
    "status",
    "bytes",
    "visitor_id",
    "visit_id",
    "referrer_source",
    "referrer",
    "utm_medium",
    "utm_source",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "device",
    "browser",
    "browser_version",
    "os",
    "os_version",
    "country",
    "region",
    "city",
)
_FIRST = 9  # ROW_COLS[9:] are the visit properties taken from a visit's first event
VISIT_ATTRS = ("source", *ROW_COLS[_FIRST + 1 :])
VISIT_DIMS = ("entry_page", "exit_page", *VISIT_ATTRS)
EVENT_DIMS = ("page", "name", "hostname")
# Two-dimensional keys (filter by FILTER_DIMS, break down by CROSS_DIMS): each pair
# costs write time, so only the dashboard's most used filters are materialised.
FILTER_DIMS = ("country", "device")
CROSS_DIMS = ("page", "source", "country", "device", "browser", "os")
# Values that change as a visit grows (sketches cannot forget): their visitors are added
# when the visit closes (close_idle_visits), not as it grows.
NO_SKETCH = ("exit_page",)
_FILTER_IDX = tuple(ROW_COLS.index(f) for f in FILTER_DIMS)
_FILTER_PAGE = tuple(f"{f}|page" for f in FILTER_DIMS)
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

Acc = dict[tuple[str, str, str, int, str], list[Any]]


class Clock:
    """UTC microseconds -> local (hour, day, month) numbers, cached per UTC hour."""

    def __init__(self, tz: str) -> None:
        self.zone = ZoneInfo(tz)
        self._offsets: dict[int, int] = {}

    def local(self, ts_us: int) -> tuple[int, int]:
        """(local hour number, local day number) since the epoch."""
        hour = ts_us // HOUR_US
        off = self._offsets.get(hour)
        if off is None:
            from datetime import datetime, timezone

            at = datetime.fromtimestamp(hour * 3600, timezone.utc).astimezone(self.zone)
            off = int((at.utcoffset() or timedelta(0)).total_seconds()) * 1_000_000
            self._offsets[hour] = off
        local = ts_us + off
        return local // HOUR_US, local // DAY_US


@lru_cache(maxsize=200_000)
def month_of_day(day: int) -> int:
    d = date(1970, 1, 1) + timedelta(days=day)
    return d.year * 12 + d.month - 1


def _row(acc: Acc, key: tuple[str, str, str, int, str]) -> list[Any]:
    row = acc.get(key)
    if row is None:
        row = acc[key] = [0, 0, 0, 0, 0, 0, 0, 0, set()]
    return row


def _events(rows: Sequence[Sequence[Any]], clock: Clock, acc: Acc) -> None:
    # Events are first grouped by everything their keys are made of: a chunk of live
    # traffic has far fewer groups than events, and each group touches 7 rows once.
    groups: dict[tuple[Any, ...], list[Any]] = {}
    local = clock.local
    fi, fj = _FILTER_IDX
    for r in rows:
        hour, day = local(r[1])
        g = (hour, day, r[2], r[3], r[4], r[fi], r[fj])
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
    for (hour, day, name, path, host, first, second), (n, nbytes, err, visitors) in groups.items():
        pv = n if name == "pageview" else 0
        req = n if name == "request" else 0
        for key in (
            ("", "", "d", day, ""),
            ("", "", "h", hour, ""),
            ("page", "", "d", day, path),
            ("name", "", "d", day, name),
            ("hostname", "", "d", day, host),
            (_FILTER_PAGE[0], first, "d", day, path),
            (_FILTER_PAGE[1], second, "d", day, path),
        ):
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


def _merge_visit(old: dict[str, Any] | None, events: list[Sequence[Any]]) -> dict[str, Any]:
    v = dict(old) if old else None
    for r in sorted(events, key=lambda r: (r[1], r[0])):
        ts, eid = r[1], r[0]
        if v is None:
            v = dict(zip(VISIT_ATTRS, r[_FIRST:], strict=True))
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
            v.update(zip(VISIT_ATTRS, r[_FIRST:], strict=True))
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


def _visit_keys(v: dict[str, Any], clock: Clock) -> list[tuple[str, str, str, int, str]]:
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
    keys: list[tuple[str, str, str, int, str]],
    counters: Sequence[int],
    visitor: str,
    known: set[tuple[str, str, str, int, str]] | frozenset[Any] = frozenset(),
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


def _visits(
    conn: sqlite3.Connection, site: str, rows: Sequence[Sequence[Any]], clock: Clock, acc: Acc
) -> None:
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


def hll_merge(old: bytes | None, new: bytes | None) -> bytes | None:
    """SQLite function `footfall_hll_merge`: the union of two serialized sketches."""
    if not old or not new:
        return old or new
    union = ds.hll_union(LG_K)
    union.update(ds.hll_sketch.deserialize(old))
    union.update(ds.hll_sketch.deserialize(new))
    merged: bytes = union.get_result(HLL_TYPE).serialize_compact()
    return merged


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
            _row(acc, ("exit_page", "", "d", day, exit_page))[8].add(visitor)
    conn.executemany(
        "UPDATE stats_visits SET closed = 1 WHERE site = ? AND visit_id = ?",
        [(site, r[0]) for r in rows],
    )


def apply_rows(conn: sqlite3.Connection, site: str, tz: str, rows: Sequence[Sequence[Any]]) -> None:
    """Add new (non-bot) event rows of one site, in `ROW_COLS` order, to the summaries."""
    if not rows:
        return
    clock = _clock(tz)
    acc: Acc = {}
    _events(rows, clock, acc)
    _visits(conn, site, rows, clock, acc)
    close_idle_visits(conn, site, max(r[1] for r in rows), clock, acc)
    _flush(conn, site, acc)


@lru_cache(maxsize=64)
def _clock(tz: str) -> Clock:
    return Clock(tz)


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
        cursor = cursor_column(conn)
        older = conn.execute(
            f"SELECT 1 FROM events WHERE site = ? AND {cursor} <= ? LIMIT 1",  # noqa: S608
            (site, mark),
        ).fetchone()
        conn.execute(
            "INSERT INTO stats_sites (site, tz, complete, updated_at) VALUES (?, ?, ?, ?)",
            (site, current, 0 if older else 1, int(time.time())),
        )
        return current
    if row[0] != current and row[1]:
        # The site's zone changed: keep bucketing in the old one until a rebuild.
        conn.execute("UPDATE stats_sites SET complete = 0 WHERE site = ?", (site,))
    return str(row[0])
