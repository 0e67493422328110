"""Tiny SQL adapter so the dashboard's user tables work on any SQL store.

The Store contract only covers events; users and sessions are a handful of
point reads and writes, so rather than widen that contract we speak DB-API
through whatever the store exposes (`query` for reads, `transaction()` for
writes, as `SQLiteStore` does) and translate `?` placeholders for stores
whose driver wants `%s`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from footfall.errors import ConfigurationError
from footfall.stores.base import Store

__all__ = ["execute", "fetch"]


def _sql(store: Store, sql: str) -> str:
    return sql.replace("?", "%s") if store.dialect == "postgres" else sql


def fetch(store: Store, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Run a read query with bound parameters."""
    query = getattr(store, "query", None)
    if query is None:
        raise ConfigurationError(f"{store!r} cannot hold dashboard users")
    rows: list[tuple[Any, ...]] = query(_sql(store, sql), list(params))
    return rows


def execute(store: Store, sql: str, params: Sequence[Any] = ()) -> int:
    """Run one write statement in its own transaction; return rows changed."""
    transaction = getattr(store, "transaction", None)
    if transaction is None:
        raise ConfigurationError(f"{store!r} cannot hold dashboard users")
    with transaction() as conn:
        cursor = conn.execute(_sql(store, sql), list(params))
        return int(getattr(cursor, "rowcount", 0) or 0)
