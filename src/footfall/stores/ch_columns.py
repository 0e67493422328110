"""Events -> the column lists clickhouse-driver inserts (`columnar=True`).

ClickHouse stores columns, and clickhouse-driver serialises a column at a
time, so a batch is transposed once (`zip(*map(astuple, events))`, which runs
in C) instead of being built row by row. Columns that hold only their
default in a batch (often half of them: a page view has no `status`, a
server request no `screen`) are left out of the INSERT, and the server fills
in the default - less to encode, send and write.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from footfall.event import Event
from footfall.stores.rows import COLUMNS, encode_json, to_micros

__all__ = ["ALWAYS", "columns"]

ALWAYS = frozenset({"id", "ts", "site", "name"})  # the sort key's own columns
_ALWAYS_AT = frozenset(COLUMNS.index(c) for c in ALWAYS)
_TS, _BOT = COLUMNS.index("ts"), COLUMNS.index("is_bot")
_JSON = frozenset({COLUMNS.index("props"), COLUMNS.index("context")})
_astuple = msgspec.structs.astuple


def columns(events: Sequence[Event]) -> tuple[list[str], list[Sequence[Any]]]:
    """(column names, one sequence of values per name), all-default columns left out."""
    names: list[str] = []
    values: list[Sequence[Any]] = []
    for i, col in enumerate(zip(*map(_astuple, events), strict=True)):
        if i == _TS:
            values.append([to_micros(t) for t in col])
        elif i not in _ALWAYS_AT and not any(col):  # '' / 0 / False / {} everywhere
            continue
        elif i in _JSON:
            values.append([encode_json(v) for v in col])
        elif i == _BOT:
            values.append([1 if v else 0 for v in col])
        else:
            values.append(col)
        names.append(COLUMNS[i])
    return names, values
