"""Plugs the stats engine into the stores' hooks; imported by the `footfall` package.

The stores sit below the stats engine and must not import it
(docs/architecture.md), yet a delete must mark the stats summaries
incomplete and a store is asked for the stats engine's SQL dialect. The
stores call `footfall.stores.hooks`; this module registers the stats
engine's answers there.

Why from `footfall/__init__.py`: importing any footfall module imports the
package first, so the hooks are in place before any store exists, however it
was opened - `footfall.connect()` then `store.purge()` from plain Python, a
`SQLiteStore(...)` made directly, the CLI, the server - without the caller
having imported the stats engine. A registration that waited for
`footfall.stats` to be imported would let such a purge leave summaries that
still count the deleted events, silently.

Each hook imports its implementation on its first call, not here: the stats
engine costs about 0.4 s to import (datasketches, numpy, clickhouse-driver),
which a web app that only records events should not pay when it starts.
"""

from __future__ import annotations

from typing import Any

from footfall.stores import hooks
from footfall.stores.base import Store
from footfall.stores.hooks import Deletion

__all__: list[str] = []


def _sqlite_delete(store: Store, conn: Any, deletion: Deletion) -> None:
    # Imported on first use: see the module docstring.
    from footfall.stats.summaries.deletes import before_delete_sqlite

    before_delete_sqlite(store, conn, deletion)


def _postgres_delete(store: Store, conn: Any, deletion: Deletion) -> None:
    # Imported on first use: see the module docstring.
    from footfall.stats.summaries.deletes import before_delete_postgres

    before_delete_postgres(store, conn, deletion)


def _clickhouse_delete(store: Store, conn: Any, deletion: Deletion) -> None:
    # Imported on first use: see the module docstring.
    from footfall.stats.summaries.deletes import before_delete_clickhouse

    before_delete_clickhouse(store, conn, deletion)


def _stats_dialect(store: Store) -> Any:
    # Imported on first use: see the module docstring.
    from footfall.stats.store_dialect import dialect_of

    return dialect_of(store)


hooks.add_delete_hook("sqlite", _sqlite_delete)
hooks.add_delete_hook("postgres", _postgres_delete)
hooks.add_delete_hook("clickhouse", _clickhouse_delete)
hooks.set_stats_dialect_provider(_stats_dialect)
