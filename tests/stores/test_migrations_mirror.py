"""PostgreSQL mirrors every SQLite migration (same number, same name, same tables)."""

from __future__ import annotations

import re

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


def test_clickhouse_events_table_has_every_event_column() -> None:
    from footfall.stores.rows import COLUMNS

    (first,) = [m for m in load_migrations("clickhouse") if m.version == 1]
    for column in COLUMNS:
        assert re.search(rf"^\s+{column} ", first.sql, re.MULTILINE), column
