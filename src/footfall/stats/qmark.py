"""The summaries' SQL, written with `?` placeholders, run on PostgreSQL too.

The rollup, catch-up, rebuild and summary-read code was written against
sqlite3's interface (`conn.execute(sql, params)`, `executemany`, `?`
placeholders). PostgreSQL (psycopg) wants `%s`. Every statement involved is
a fixed string of ours (values are always bound, never pasted), so turning
each `?` into `%s` is exact; the statements whose *meaning* differs between
the two databases (`INSERT OR REPLACE`, the HLL merge in SQL, the rowid
cursor) branch on `is_postgres` where they are written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

__all__ = ["QmarkConnection", "is_postgres", "run", "to_pyformat"]


@lru_cache(maxsize=512)
def to_pyformat(sql: str) -> str:
    """`?` placeholders as psycopg's `%s` (the SQL holds no literal `%` or `?`)."""
    if "%" in sql:
        raise ValueError("a literal % in summaries SQL would need escaping for psycopg")
    return sql.replace("?", "%s")


class QmarkConnection:
    """A psycopg connection with sqlite3's `execute`/`executemany` and `?` marks."""

    dialect = "postgres"

    def __init__(self, conn: Any) -> None:
        self.raw = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.raw.execute(to_pyformat(sql), tuple(params))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any:
        cur = self.raw.cursor()
        cur.executemany(to_pyformat(sql), list(rows))
        return cur

    def create_function(self, *args: Any, **kwargs: Any) -> None:
        """SQLite registers Python functions on its connection; PostgreSQL has none."""


def is_postgres(conn_or_store: Any) -> bool:
    return getattr(conn_or_store, "dialect", "") == "postgres"


def run(store: Any, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """`store.query` for `?`-placeholder SQL on either store."""
    if is_postgres(store):
        return list(store.query(to_pyformat(sql), tuple(params)))
    return list(store.query(sql, params))
