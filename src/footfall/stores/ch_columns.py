"""Events -> the column lists clickhouse-driver inserts (`columnar=True`).

ClickHouse stores columns, and clickhouse-driver serialises a column at a
time; building each column straight from the events (one list comprehension
per field) skips row tuples and their transposition. Columns that hold only
their default in a batch (often half of them: a page view has no `status`,
a server request no `screen`) are left out of the INSERT, and the server
fills in the default - less to encode, send and write.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

from footfall.event import Event
from footfall.stores.rows import COLUMNS, encode_json, to_micros

__all__ = ["ALWAYS", "columns"]

ALWAYS = frozenset({"id", "ts", "site", "name"})  # the sort key's own columns
_CONVERT: dict[str, Callable[[Any], Any]] = {
    "ts": to_micros,
    "props": encode_json,
    "context": encode_json,
    "is_bot": int,
}
_GETTERS = [(name, attrgetter(name), _CONVERT.get(name)) for name in COLUMNS]


def columns(events: Sequence[Event]) -> tuple[list[str], list[list[Any]]]:
    """(column names, one list of values per name), all-default columns left out."""
    names: list[str] = []
    values: list[list[Any]] = []
    for name, get, convert in _GETTERS:
        raw = [get(e) for e in events]
        if name not in ALWAYS and not any(raw):  # '' / 0 / False / {} everywhere
            continue
        names.append(name)
        values.append(raw if convert is None else [convert(v) for v in raw])
    return names, values
