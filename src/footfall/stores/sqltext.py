"""Footfall's SQL in each driver's placeholder style, and the raw-event WHERE clause.

Footfall writes its SQL once, with `?` placeholders (sqlite3's style), and
every store declares the style its driver reads (`Store.paramstyle`, PEP 249's
names):

- `qmark` (sqlite3): `?`, the text as written;
- `format` (psycopg): `%s`;
- `pyformat` (clickhouse-driver): `%(p1)s`, `%(p2)s`, ... numbered in order,
  the names `ClickHouseStore.query` binds a sequence of parameters to.

Both `%` styles are read by printf-like formatting, so each `%` of the text
(a `LIKE 'a%'` pattern) is doubled. A `?` inside a string literal, a quoted
identifier or a comment is text, not a placeholder, and stays as it is.
Footfall's SQL uses none of what this reader does not know: PostgreSQL's
`E'...'` escapes, dollar quoting and the jsonb `?` operators.

The WHERE clause the stores read raw events back with (`get_usage`, `count`,
`purge`, `delete_visitor`) is built here too, once for every store: column
names come from `EventFilter`'s fields only, every value is a parameter.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from functools import lru_cache
from typing import Any

from footfall.stores.base import EventFilter
from footfall.stores.rows import to_micros

__all__ = [
    "FILTER_COLUMNS",
    "FORMAT",
    "PARAMSTYLES",
    "PYFORMAT",
    "QMARK",
    "bind",
    "events_condition",
    "events_where",
    "to_paramstyle",
]

QMARK = "qmark"
FORMAT = "format"
PYFORMAT = "pyformat"
PARAMSTYLES = (QMARK, FORMAT, PYFORMAT)

# What a `?` or a `%` may stand in: the whole of a literal, quoted identifier or
# comment is one match (left as text), so only bare ones are placeholders. The
# literal patterns are unrolled loops ('' is a quote inside a literal): linear.
_TOKEN = re.compile(
    r"""
    '[^']*(?:''[^']*)*'     # a string literal
    | "[^"]*(?:""[^"]*)*"   # a quoted identifier
    | --[^\n]*              # a comment to the end of the line
    | /\*.*?\*/             # a block comment
    | /\* | ['"]            # one never closed
    | [?%]
    """,
    re.VERBOSE | re.DOTALL,
)
_UNCLOSED = frozenset({"'", '"', "/*"})
# EventFilter's fields, each an events column: the only names pasted into the WHERE.
FILTER_COLUMNS = frozenset(f.name for f in fields(EventFilter))


def to_paramstyle(sql: str, style: str) -> str:
    """`sql`, written with `?` placeholders, in the placeholder style `style`."""
    if style == QMARK:
        return sql
    return _convert(sql, style)


@lru_cache(maxsize=1024)
def _convert(sql: str, style: str) -> str:
    if style not in (FORMAT, PYFORMAT):
        raise ValueError(f"unknown paramstyle {style!r}; one of {', '.join(PARAMSTYLES)}")
    count = 0

    def swap(match: re.Match[str]) -> str:
        nonlocal count
        found = match.group()
        if found == "?":
            count += 1
            return "%s" if style == FORMAT else f"%(p{count})s"
        if found in _UNCLOSED:
            raise ValueError(f"SQL with an unclosed {found}: {sql[:80]!r}")
        return found.replace("%", "%%")  # text, or a bare `%`

    return _TOKEN.sub(swap, sql)


def bind(values: Sequence[Any], style: str) -> list[Any] | dict[str, Any]:
    """The parameters of `?` SQL converted to `style`: a list, or `{"p1": ...}` for pyformat."""
    if style == PYFORMAT:
        return {f"p{i}": v for i, v in enumerate(values, start=1)}
    return list(values)


def events_condition(
    start: datetime | None,
    end: datetime | None,
    filters: EventFilter | None,
    style: str = QMARK,
) -> tuple[str, Any]:
    """The condition (without `WHERE`; "" for none) selecting events with
    `start <= ts < end` that equal every filter given, and its parameters, in `style`."""
    clauses: list[str] = []
    values: list[Any] = []
    if start is not None:
        clauses.append("ts >= ?")
        values.append(to_micros(start))
    if end is not None:
        clauses.append("ts < ?")
        values.append(to_micros(end))
    for column, value in (filters or EventFilter()).items():
        if column not in FILTER_COLUMNS:
            raise ValueError(f"not a filter column: {column!r}")
        clauses.append(f"{column} = ?")
        values.append(value)
    return to_paramstyle(" AND ".join(clauses), style), bind(values, style)


def events_where(
    start: datetime | None,
    end: datetime | None,
    filters: EventFilter | None,
    style: str = QMARK,
) -> tuple[str, Any]:
    """`events_condition` as a clause to append: `" WHERE ..."`, or "" when it is empty."""
    condition, params = events_condition(start, end, filters, style)
    return (f" WHERE {condition}" if condition else ""), params
