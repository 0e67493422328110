"""The summaries' SQL, written with `?` placeholders, run on PostgreSQL too.

The fold, catch-up, rebuild and summary-read code is written against
sqlite3's interface (`conn.execute(sql, params)`, `executemany`, `?`
placeholders). PostgreSQL (psycopg) wants `%s`, which
`footfall.stores.sqltext` turns each statement into; the statements whose
*meaning* differs between the two databases (`INSERT OR REPLACE`, the HLL
merge in SQL, the rowid cursor) branch on `is_postgres` where they are
written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from footfall.stores.base import Store
from footfall.stores.sqltext import FORMAT, to_paramstyle

__all__ = ["QmarkConnection", "cursor_column", "is_postgres", "run"]


_ONE_ROW_INSERT = re.compile(
    r"^INSERT INTO (\w+) \(([\w, ]+)\) VALUES \(\?(?:, \?)*\)(.*)$", re.DOTALL
)


class QmarkConnection:
    """A psycopg connection with sqlite3's `execute`/`executemany` and `?` marks."""

    def __init__(self, conn: Any) -> None:
        self.raw = conn
        self._table_types: dict[str, dict[str, str]] = {}

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.raw.execute(to_paramstyle(sql, FORMAT), tuple(params))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any:
        """Like sqlite3's; a one-row `INSERT INTO t (cols) VALUES (?, ...)` goes set-based.

        PostgreSQL pays a per-statement cost, so thousands of one-row upserts a
        chunk spent most of the catch-up waiting on the server. Such an insert
        is sent once, its rows as one array per column:
        `INSERT INTO t (cols) SELECT * FROM unnest(%s::type[], ...) <rest>`, a
        short text with one parameter per column. The rows of one call must not
        repeat a conflict key (an upsert may not touch a row twice in one
        statement): the summaries' callers pass one row per key.
        """
        rows = list(rows)
        cur = self.raw.cursor()
        match = _ONE_ROW_INSERT.match(sql)
        if match is None or len(rows) < 2:
            cur.executemany(to_paramstyle(sql, FORMAT), rows)
            return cur
        table, columns, tail = match.groups()
        names = [c.strip() for c in columns.split(",")]
        types = self._types(table)
        arrays = ", ".join(f"%s::{types[n]}[]" for n in names)
        # Names from our own fixed SQL (the pattern admits only identifiers) and
        # types from the catalog; every value is a bound parameter.
        statement = (
            f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays})"  # noqa: S608
            + to_paramstyle(tail, FORMAT)
        )
        cur.execute(statement, [list(col) for col in zip(*rows, strict=True)])
        return cur

    def _types(self, table: str) -> dict[str, str]:
        """The SQL type of each column of `table` (read once per connection)."""
        found = self._table_types.get(table)
        if found is None:
            rows = self.raw.execute(
                "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a"
                " WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped",
                (table,),
            ).fetchall()
            found = self._table_types[table] = {r[0]: r[1] for r in rows}
        return found

    def create_function(self, *args: Any, **kwargs: Any) -> None:
        """SQLite registers Python functions on its connection; PostgreSQL has none."""


def is_postgres(conn: Any) -> bool:
    """Whether a summaries transaction's connection is PostgreSQL's (else sqlite3's)."""
    return isinstance(conn, QmarkConnection)


def cursor_column(postgres: bool) -> str:
    """The commit-ordered events column the catch-up's watermark points into."""
    return "seq" if postgres else "rowid"


def run(store: Store, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """`store.query` for `?`-placeholder SQL on either store."""
    return list(store.query(to_paramstyle(sql, store.paramstyle), tuple(params)))
