"""Reading every event of a range in chunks, with memory that does not grow.

`Store.iter_events` (an export, a copy to another store) must read millions
of events without holding them: one query per chunk, each starting after
the last event of the one before (keyset pagination). OFFSET would make
the database skip ever more rows; a cursor held open would pin a
connection, a transaction and, on some drivers, the whole result in memory.

The order is (site, ts, id): one site at a time, so each chunk is a range
of the `(site, ts)` index that SQLite and PostgreSQL keep, where the
database sorts only the events of one timestamp by id (SQLite's "temp
b-tree for right part of ORDER BY", PostgreSQL's incremental sort) and
stops at the LIMIT. The cursor condition is spelled `ts >= ? AND (ts > ?
OR (ts = ? AND id > ?))`, not as a row comparison, so that every store's
SQL (ClickHouse 18.16's included) reads it and the index still sees its
`ts >= ?` range. ClickHouse keeps events in (site, day, visitor) order, so
there the next chunk means sorting the rest of the site: its store asks
each chunk's last (ts, id) first (`probe`), which reads two columns of the
rest, and then the chunk's rows, whose days the table's key finds. A
ReplacingMergeTree can hold an event twice until its merge; both copies
sort side by side, and the second is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from footfall.event import Event
from footfall.stores.base import EventFilter
from footfall.stores.rows import COLUMNS, row_to_event
from footfall.stores.sqltext import bind, events_condition, to_paramstyle

if TYPE_CHECKING:
    from footfall.stores.base import Store

__all__ = ["DEFAULT_CHUNK", "iter_events", "iter_rows"]

DEFAULT_CHUNK = 10_000  # events per query: ~10 MB of Event objects at most
_COLS = ", ".join(COLUMNS)
_TS, _ID = COLUMNS.index("ts"), COLUMNS.index("id")
_get_id = itemgetter(_ID)


def _sites(store: Store, table: str, start: datetime | None, end: datetime | None) -> list[str]:
    condition, params = events_condition(start, end, None)
    where = f" WHERE {condition}" if condition else ""
    sql = f"SELECT DISTINCT site FROM {table}{where} ORDER BY site"  # noqa: S608 - fixed names
    style = store.paramstyle
    rows = store.query(to_paramstyle(sql, style), bind(params, style))
    return [str(r[0]) for r in rows]


def iter_events(
    store: Store,
    site: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    chunk: int = DEFAULT_CHUNK,
    table: str = "events",
    probe: bool = False,
) -> Iterator[list[Event]]:
    """The events of `site` (every site: None) with start <= ts < end, `chunk` at a
    time, ordered by (site, ts, id): `iter_rows`, each row made an `Event`."""
    for rows in iter_rows(store, site, start, end, chunk, table, probe):
        yield [row_to_event(row) for row in rows]


def iter_rows(
    store: Store,
    site: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    chunk: int = DEFAULT_CHUNK,
    table: str = "events",
    probe: bool = False,
) -> Iterator[list[Any]]:
    """The rows (COLUMNS, as the driver gives them) of `site`'s events (every site:
    None) with start <= ts < end, `chunk` at a time, ordered by (site, ts, id).
    `table` is a fixed name from the store.

    With `probe`, each chunk's last (ts, id) is asked first, reading those two
    columns only, and then the chunk's rows up to it: for a table whose order
    is not (site, ts, id) (ClickHouse's), where finding the next chunk means
    sorting the rest of the site, so only two columns of the rest are read.
    """
    if chunk < 1:
        raise ValueError(f"iter_events: chunk must be at least 1, not {chunk}")
    style = store.paramstyle

    def run(sql: str, values: list[Any]) -> list[Any]:
        return store.query(to_paramstyle(sql, style), bind(values, style))

    sites = [site] if site is not None else _sites(store, table, start, end)
    for one in sites:
        condition, params = events_condition(start, end, EventFilter(site=one))
        last: tuple[int, str] | None = None
        while True:
            where, values = condition, list(params)
            if last is not None:
                where += " AND ts >= ? AND (ts > ? OR (ts = ? AND id > ?))"
                values += [last[0], last[0], last[0], last[1]]
            select = f"SELECT {_COLS} FROM {table} WHERE {where}"  # noqa: S608 - fixed names
            upper = None
            if probe:
                found = run(
                    f"SELECT ts, id FROM {table} WHERE {where} "  # noqa: S608 - fixed names
                    "ORDER BY ts, id LIMIT 1 OFFSET ?",
                    [*values, chunk - 1],
                )
                upper = (found[0][0], found[0][1]) if found else None
            if upper is not None:
                rows = run(
                    f"{select} AND ts <= ? AND (ts < ? OR id <= ?) ORDER BY ts, id",
                    [*values, upper[0], upper[0], upper[1]],
                )
            else:
                rows = run(f"{select} ORDER BY ts, id LIMIT ?", [*values, chunk])
            if not rows:
                break
            read, tail = len(rows), rows[-1]
            previous = last[1] if last is not None else None
            ids = set(map(_get_id, rows))
            if len(ids) < read or previous in ids:  # a not-yet-merged copy (ClickHouse)
                rows = _unmerged_dropped(rows, previous)
            last = (int(tail[_TS]), str(tail[_ID]))
            if rows:
                yield rows
            if upper is None and read < chunk:
                break


def _unmerged_dropped(rows: list[Any], previous: str | None) -> list[Any]:
    """`rows` without the second copy of an event a ReplacingMergeTree has not
    merged yet (ClickHouse): copies sort side by side, the first is kept."""
    kept: list[Any] = []
    for row in rows:
        if row[_ID] != previous:
            kept.append(row)
            previous = row[_ID]
    return kept
