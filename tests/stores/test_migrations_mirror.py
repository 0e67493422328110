"""The migrations: PostgreSQL mirrors every SQLite migration (same number, name and
tables), and every store's tables hold exactly the columns `footfall.columns` lists."""

from __future__ import annotations

import re

import pytest

from footfall.columns import EVENT_COLUMNS, SQL_TYPES, SUMMARISED_VISIT_PROPERTIES
from footfall.stores import Store
from footfall.stores.base import SUMMARIES_FOLDED
from footfall.stores.migrate import load_migrations

_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+)", re.IGNORECASE)


def _tables(sql: str) -> set[str]:
    return set(_TABLE.findall(sql))


def test_postgres_has_every_sqlite_migration() -> None:
    sqlite = {m.version: m for m in load_migrations("sqlite")}
    postgres = {m.version: m for m in load_migrations("postgres")}
    assert sorted(postgres) == sorted(sqlite)
    for version, m in sqlite.items():
        assert postgres[version].name == m.name
        assert _tables(postgres[version].sql) == _tables(m.sql), m.name


# Columns a store keeps beside the ones `footfall.columns` lists, and why.
_STORE_ONLY = {
    ("postgres", "events"): {"seq"},  # the catch-up's commit-ordered cursor (0013)
}
# `stats_visits` columns other than the summarised visit properties.
_VISIT_ROW = (
    "site",
    "visit_id",
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
)


def _columns(store: Store, table: str) -> dict[str, str]:
    """The columns of `table` as the migrated database reports them, with their types."""
    if store.dialect == "sqlite":
        rows = store.query(f"SELECT name, type FROM pragma_table_info('{table}')")
    elif store.dialect == "postgres":
        rows = store.query(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod)"
            " || CASE WHEN c.collname = 'C' THEN ' COLLATE \"C\"' ELSE '' END"
            " FROM pg_attribute a LEFT JOIN pg_collation c ON c.oid = a.attcollation"
            " WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped"
            " ORDER BY a.attnum",
            [table],
        )
    else:
        rows = [r[:2] for r in store.query(f"DESCRIBE TABLE {table}")]
    keep = _STORE_ONLY.get((store.dialect, table), set())
    return {name: kind for name, kind in rows if name not in keep}


def test_each_store_creates_exactly_the_event_columns(store: Store) -> None:
    """Every store's migrations make one column per `Event` field (the stores name
    the columns they read and write), of the type `footfall.columns` gives it."""
    found = _columns(store, "events")
    assert found == {c: SQL_TYPES[c].on(store.dialect) for c in EVENT_COLUMNS}


def test_stats_visits_keeps_exactly_the_summarised_visit_properties(store: Store) -> None:
    if store.summaries != SUMMARIES_FOLDED:
        pytest.skip("ClickHouse keeps visit breakdowns as (dim, value) rows")
    found = [c for c in _columns(store, "stats_visits") if c != "closed"]  # closed: 0011
    assert found == [*_VISIT_ROW, *(p.name for p in SUMMARISED_VISIT_PROPERTIES)]
