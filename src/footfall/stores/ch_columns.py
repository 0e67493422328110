"""Events -> the column lists clickhouse-driver inserts (`columnar=True`).

ClickHouse stores columns, and clickhouse-driver serialises a column at a
time, so a batch is read a column at a time (one `attrgetter` pass per
used field, in C) instead of being built row by row. Columns that hold
only their default in a batch (often half of them: a page view has no
`status`, a server request no `screen`) are left out of the INSERT, and
the server fills in the default - less to encode, send and write. The
timestamp column comes back with the rest: the store's duplicate check
needs its min and max.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from footfall.columns import JSON_COLUMNS
from footfall.event import Event
from footfall.stores.rows import GETTERS, encode_json, used_columns

__all__ = ["ALWAYS", "columns", "micros"]

ALWAYS = frozenset({"id", "ts", "site", "name"})  # the sort key's own columns
_JSON = frozenset(JSON_COLUMNS)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICRO = timedelta(microseconds=1)


def micros(stamps: Sequence[datetime]) -> list[int]:
    """UTC microseconds since the epoch, exact (timedelta // timedelta runs in C)."""
    return [(t - _EPOCH) // _MICRO for t in stamps]


def columns(events: Sequence[Event]) -> tuple[list[str], list[Sequence[Any]]]:
    """(column names, one sequence of values per name), all-default columns left out.

    A column is read with one `attrgetter` pass (C-level) only when some
    event uses it (`rows.used_columns`). Transposing whole events instead (`zip(*map(astuple,
    events))`) read all ~40 fields of every event and, for batches of 100k,
    was five times slower: the argument tuple alone is the size of the batch.
    """
    names: list[str] = []
    values: list[Sequence[Any]] = []
    col: Sequence[Any]
    for name in used_columns(events, ALWAYS):
        get = GETTERS[name]
        if name == "ts":
            col = micros(list(map(get, events)))
        elif name in _JSON:
            col = [encode_json(v) for v in map(get, events)]
        elif name == "is_bot":
            col = [1 if v else 0 for v in map(get, events)]
        else:
            col = list(map(get, events))
        names.append(name)
        values.append(col)
    return names, values
