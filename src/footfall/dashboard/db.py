"""Tiny SQL adapter so the dashboard's user tables work on any store that holds them.

The Store contract's events methods do not cover users and sessions; they are
a handful of point reads and writes, so rather than widen that contract the
dashboard speaks DB-API through what a store that `holds_meta` declares
(`query` for reads, `transaction()` for writes), with its statements written
once with `?` placeholders and sent in the store's `paramstyle`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from footfall.errors import ConfigurationError
from footfall.stores.base import Store
from footfall.stores.sqltext import to_paramstyle

__all__ = ["execute", "fetch"]


def _home(store: Store) -> Store:
    # The dashboard's tables (migration 0020) live where sites and tokens do:
    # the `--meta` store when the event store has one attached.
    home = store.meta_home()
    if not home.holds_meta:
        raise ConfigurationError(f"{home!r} cannot hold dashboard users: give --meta")
    return home


def _sql(store: Store, sql: str) -> str:
    return to_paramstyle(sql, store.paramstyle)


def fetch(store: Store, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Run a read query with bound parameters."""
    home = _home(store)
    rows: list[tuple[Any, ...]] = home.query(_sql(home, sql), list(params))
    return rows


def execute(store: Store, sql: str, params: Sequence[Any] = ()) -> int:
    """Run one write statement in its own transaction; return rows changed."""
    home = _home(store)
    statement = _sql(home, sql)
    with home.transaction() as conn:
        cursor = conn.execute(statement, list(params))
        return int(cursor.rowcount or 0)
