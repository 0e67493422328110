"""The events table's columns and the dimensions the stats read, defined once.

Every store's `events` table has one column per `Event` field, in the
Struct's order (`EVENT_COLUMNS`); `SQL_TYPES` says how each store's
migrations declare it. The dimensions - what the stats break down and filter
by, Plausible's `event:<name>` and `visit:<name>` properties - are
`EVENT_PROPERTIES` and `VISIT_PROPERTIES`. The stores' rows, the stats
engine's allow-lists and SQL, the summaries' fold and tables and
ClickHouse's compaction all derive their column lists from here.

Adding a dimension, say `visit:timezone` (the visit's first event's
`timezone`): add it to VISIT_PROPERTIES, and write the SQLite and
PostgreSQL migrations adding a `timezone` column to `stats_visits`
(ClickHouse keeps its breakdowns as key/value rows: nothing to add there);
`footfall stats rebuild` then fills it for the events stored before. A
property of a new field also needs that field on `Event`, its type in
`_TYPED` unless it is text, and the migrations adding it to `events` on
every store. tests/stores/test_migrations_mirror.py checks each store's
migrations against these lists.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass

import msgspec

from footfall.event import EVENT_FIELDS, Event

__all__ = [
    "EVENT_COLUMNS",
    "EVENT_PROPERTIES",
    "JSON_COLUMNS",
    "NUMBER_COLUMNS",
    "PAGE_VISIT_PROPERTIES",
    "SQL_TYPES",
    "SUMMARISED_EVENT_PROPERTIES",
    "SUMMARISED_VISIT_PROPERTIES",
    "TEXT",
    "VISIT_PROPERTIES",
    "VISIT_SOURCE_COLUMNS",
    "EventProperty",
    "SQLType",
    "VisitProperty",
]

# The events table, column for column, on every store.
EVENT_COLUMNS: tuple[str, ...] = EVENT_FIELDS


@dataclass(frozen=True)
class SQLType:
    """How one events column is declared on each store."""

    sqlite: str
    postgres: str
    clickhouse: str

    def on(self, dialect: str) -> str:
        """The type on the store speaking `dialect` ("sqlite", "postgres", "clickhouse")."""
        return {"sqlite": self.sqlite, "postgres": self.postgres, "clickhouse": self.clickhouse}[
            dialect
        ]


# Text sorts bytewise on every store (PostgreSQL's COLLATE "C" is SQLite's and
# ClickHouse's order), so ORDER BY and GROUP BY agree between them.
TEXT = SQLType("TEXT", 'text COLLATE "C"', "String")
# Every column not listed here is text.
_TYPED = {
    "ts": SQLType("INTEGER", "bigint", "Int64"),  # UTC microseconds since the epoch
    "status": SQLType("INTEGER", "integer", "Int32"),
    "duration_ms": SQLType("REAL", "double precision", "Float64"),
    "bytes": SQLType("INTEGER", "bigint", "Int64"),
    "is_bot": SQLType("INTEGER", "smallint", "UInt8"),  # 0/1 everywhere: a portable `is_bot = 0`
    "props": SQLType("TEXT", "jsonb", "String"),  # JSON objects
    "context": SQLType("TEXT", "jsonb", "String"),
}
SQL_TYPES: dict[str, SQLType] = {c: _TYPED.get(c, TEXT) for c in EVENT_COLUMNS}

_FIELD_TYPES = {f.name: f.type for f in msgspec.structs.fields(Event)}
# Stored as JSON text (a dict on the Event).
JSON_COLUMNS: tuple[str, ...] = tuple(
    c for c in EVENT_COLUMNS if typing.get_origin(_FIELD_TYPES[c]) is dict
)
# Numbers (`event:status` is filtered by its value as a number).
NUMBER_COLUMNS = frozenset(c for c in EVENT_COLUMNS if _FIELD_TYPES[c] in (int, float))


@dataclass(frozen=True)
class EventProperty:
    """A property of an event (`event:<name>`): the value of one of its columns."""

    name: str
    column: str
    summarised: bool = True  # a dimension of the stats summaries


EVENT_PROPERTIES: tuple[EventProperty, ...] = (
    EventProperty("name", "name"),
    EventProperty("page", "path"),
    EventProperty("hostname", "host"),
    EventProperty("status", "status", summarised=False),
)


@dataclass(frozen=True)
class VisitProperty:
    """A property of a visit (`visit:<name>`): its first event's value of `source`."""

    name: str  # also the column of `stats_visits` and of the stats' visit relation
    source: str  # the events column it is read from
    # A column of `stats_visits` and a dimension of the summaries.
    summarised: bool = True
    # Names a person: only readers with a token or a dashboard login may use it.
    identifies: bool = False


def _visit(name: str, source: str = "", **flags: bool) -> VisitProperty:
    return VisitProperty(name, source or name, **flags)


# The path of a visit's first and last page view (not an events column of their own).
PAGE_VISIT_PROPERTIES = ("entry_page", "exit_page")

VISIT_PROPERTIES: tuple[VisitProperty, ...] = (
    _visit("source", "referrer_source"),
    _visit("referrer"),
    _visit("utm_medium"),
    _visit("utm_source"),
    _visit("utm_campaign"),
    _visit("utm_content"),
    _visit("utm_term"),
    _visit("device"),
    _visit("browser"),
    _visit("browser_version"),
    _visit("os"),
    _visit("os_version"),
    _visit("country"),
    _visit("region"),
    _visit("city"),
    _visit("language"),  # the browser's preferred language ("en-US")
    _visit("screen"),  # the screen size ("1920x1080")
    # Any id seen in the visit (the greatest), not only the first event's; it names
    # a person, so the summaries keep none.
    _visit("user_id", summarised=False, identifies=True),
)

SUMMARISED_EVENT_PROPERTIES = tuple(p for p in EVENT_PROPERTIES if p.summarised)
SUMMARISED_VISIT_PROPERTIES = tuple(p for p in VISIT_PROPERTIES if p.summarised)
# Visit property -> the events column it is read from.
VISIT_SOURCE_COLUMNS: dict[str, str] = {p.name: p.source for p in VISIT_PROPERTIES}
