"""The rows of a table another tool wrote, in a SQLite or PostgreSQL database, in id order.

An import reads a table that another program owns, so it only reads:
SQLite is opened read-only (`mode=ro`), PostgreSQL in read-only
transactions, one per page. Rows come `page` at a time by keyset on an
integer key column (`WHERE id > last ORDER BY id`), so memory stays flat
whatever the table's size and no transaction stays open for the whole run.
Table and column names come from the command line: each is checked against
an identifier pattern and quoted, never pasted into SQL as given.

URLs are SQLAlchemy's, as the app that wrote the table had them:
`sqlite:///relative.db`, `sqlite:////absolute.db`, `postgresql://...`,
also with a driver (`postgresql+psycopg2://...`, which is read with
footfall's own PostgreSQL driver).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from footfall.errors import ConfigurationError
from footfall.redact import redact_url
from footfall.stores import sqlite_path

__all__ = ["PAGE", "SourceTable", "quote_name"]

PAGE = 5_000  # rows per query
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,62}")


def quote_name(name: str) -> str:
    """`name` (or `schema.name`) as a quoted SQL identifier; ConfigurationError if it is not one."""
    parts = name.split(".")
    if not 1 <= len(parts) <= 2 or not all(_NAME.fullmatch(p) for p in parts):
        raise ConfigurationError(f"not a table or column name: {name!r}")
    return ".".join(f'"{p}"' for p in parts)


class SourceTable:
    """One table of a SQLite or PostgreSQL database, opened for reading."""

    def __init__(self, url: str, table: str) -> None:
        self.url = url
        self.table = table
        self._quoted = quote_name(table)
        scheme = urlsplit(url).scheme.lower().partition("+")[0]
        self._conn: Any
        if scheme == "sqlite":
            self._conn = _open_sqlite(url)
            self._mark = "?"
        elif scheme in ("postgresql", "postgres"):
            self._conn = _open_postgres(url)
            self._mark = "%s"
        else:
            raise ConfigurationError(
                f"cannot read {redact_url(url)}: give a sqlite:/// or postgresql:// URL "
                "(copy a table from another database into SQLite first)"
            )
        self.columns = self._columns()

    def _columns(self) -> tuple[str, ...]:
        try:
            cur = self._conn.execute(f"SELECT * FROM {self._quoted} WHERE 1 = 0")  # noqa: S608 - quoted name
            names = tuple(str(d[0]) for d in cur.description)
        except Exception as exc:
            raise ConfigurationError(
                f"cannot read table {self.table!r} of {redact_url(self.url)}: {exc}"
            ) from exc
        finally:
            self._end()
        return names

    def rows(
        self, wanted: Sequence[str], *, key: str = "id", page: int = PAGE
    ) -> Iterator[dict[str, Any]]:
        """Every row as {column: value}, by ascending `key`.

        `wanted` columns the table lacks are None in every row.
        """
        present = [c for c in wanted if c in self.columns]
        if key not in self.columns:
            raise ConfigurationError(f"table {self.table!r} has no {key!r} column")
        select = ", ".join(quote_name(c) for c in dict.fromkeys([key, *present]))
        sql = (
            f"SELECT {select} FROM {self._quoted} "  # noqa: S608 - quoted names, bound values
            f"WHERE {quote_name(key)} > {self._mark} ORDER BY {quote_name(key)} LIMIT {int(page)}"
        )
        names = list(dict.fromkeys([key, *present]))
        missing = dict.fromkeys(c for c in wanted if c not in self.columns)
        last: Any = -(2**63)
        while True:
            try:
                fetched = self._conn.execute(sql, (last,)).fetchall()
            finally:
                self._end()
            for values in fetched:
                row = dict(zip(names, values, strict=True))
                row.update(missing)
                yield row
            if len(fetched) < page:
                return
            last = fetched[-1][0]

    def _end(self) -> None:
        """Close the read transaction (PostgreSQL), so none stays open between pages."""
        if self._mark == "%s":
            self._conn.rollback()

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> SourceTable:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _open_sqlite(url: str) -> sqlite3.Connection:
    path = sqlite_path(url.replace("+pysqlite", "", 1))
    if not path:
        raise ConfigurationError(f"no database file in {url!r}")
    file = Path(path).expanduser().resolve()
    if not file.is_file():
        raise ConfigurationError(f"no such database file: {file}")
    return sqlite3.connect(f"file:{quote(str(file))}?mode=ro", uri=True)


def _open_postgres(url: str) -> Any:
    try:
        import psycopg  # optional extra: postgres
    except ImportError as exc:
        raise ConfigurationError(
            f"reading PostgreSQL needs `pip install 'footfall[postgres]'` ({exc})"
        ) from exc
    parts = urlsplit(url)
    plain = parts._replace(scheme="postgresql").geturl()
    try:
        conn = psycopg.connect(plain, connect_timeout=10)
    except psycopg.Error as exc:
        raise ConfigurationError(f"cannot connect to {redact_url(url)}: {exc}") from exc
    conn.read_only = True
    return conn
