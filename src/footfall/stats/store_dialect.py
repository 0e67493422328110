"""The stats engine's SQL dialect for each kind of store (`Store.stats_dialect()`).

Stores do not import the stats engine, which sits above them; they answer
`stats_dialect()` through `footfall.stores.hooks`, and `footfall.wiring`
registers `dialect_of` there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from footfall.stats.dialect import Dialect, SQLiteDialect
from footfall.stats.dialect_clickhouse import MIN_VERSION, ClickHouseDialect
from footfall.stats.dialect_postgres import PostgresDialect
from footfall.stats.errors import StatsError
from footfall.stores.base import Store

if TYPE_CHECKING:
    from footfall.stores.clickhouse import ClickHouseStore

__all__ = ["dialect_of"]


def dialect_of(store: Store) -> Dialect:
    """The dialect for `store`'s `dialect`; a 501 where the stats cannot run on it."""
    if store.dialect == "sqlite":
        return SQLiteDialect()
    if store.dialect == "postgres":
        return PostgresDialect()
    if store.dialect == "clickhouse":
        return _clickhouse(cast("ClickHouseStore", store))
    raise StatsError("site_id", f"stats are not available for {store.dialect} stores yet", 501)


def _clickhouse(store: ClickHouseStore) -> Dialect:
    """ClickHouse's SQL for this server's version (>= 18.16), reading through the
    Buffer table when there is one, so buffered events are counted."""
    if store.server_version < MIN_VERSION:
        have = ".".join(map(str, store.server_version))
        need = ".".join(map(str, MIN_VERSION))
        raise StatsError(
            "site_id",
            f"stats on ClickHouse need ClickHouse >= {need}; this server is {have}",
            501,
        )
    return ClickHouseDialect(store.server_version, store.events_table)
