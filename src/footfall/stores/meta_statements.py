"""How every part of `SQLMeta` sends its statements: written once with `?`, sent in
the store's own `paramstyle`.

The metadata tables are split by feature (sites and tokens, annotations and
funnels, alerts, reports), one mixin each, all over the same store; this
base gives them one way to run a statement instead of a copy per mixin.
"""

from __future__ import annotations

from typing import Any

from footfall.stores.sqltext import to_paramstyle

__all__ = ["MetaStatements"]


class MetaStatements:
    """`store` plus the statement helpers the `SQLMeta` mixins share."""

    store: Any

    def _sql(self, statement: str) -> str:
        """`statement`, written with `?`, in the store's placeholders."""
        return to_paramstyle(statement, self.store.paramstyle)

    def _query(self, statement: str, params: Any = ()) -> list[Any]:
        return list(self.store.query(self._sql(statement), params))

    def _change(self, statement: str, params: tuple[Any, ...]) -> int:
        """Run one statement in its own transaction; how many rows it changed."""
        with self.store.transaction() as conn:
            cur = conn.cursor()
            cur.execute(self._sql(statement), params)  # fixed statements only
            return int(cur.rowcount)
