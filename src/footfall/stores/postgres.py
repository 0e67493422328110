"""PostgreSQL store: for when one SQLite file is not enough.

A batch goes in with COPY, the fastest way into PostgreSQL. COPY cannot skip
duplicates, so it runs inside a savepoint straight into `events`: new events
(the usual case) are done in one pass, and a batch holding an id already
stored aborts at the unique index. Such a batch (a retry, or two workers
racing) is then copied into a per-connection temporary staging table and
moved with `INSERT ... SELECT ... ON CONFLICT (id) DO NOTHING`, whose row
count is exactly the number of new events. Everything runs in one
transaction per batch, so a failed batch leaves nothing behind and the
delivery worker can retry it.

Connections come from a psycopg-pool pool (one per process: the pool is
rebuilt after a fork). Two footfall-only URL parameters are read and removed
before the URL reaches libpq:

- `schema=NAME`: keep footfall's tables in that schema (created if missing;
  `search_path` is set on every pooled connection). Tests use one per test.
- `pool_size=N`: the most connections this process opens (default 10).

    postgresql://user:pass@host:5432/db?schema=analytics&pool_size=4
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, ClassVar, TypeVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from footfall.errors import ConfigurationError
from footfall.event import Event
from footfall.redact import redact_url
from footfall.stores import hooks, keyset
from footfall.stores.base import SUMMARIES_FOLDED, EventFilter, Store, page_window
from footfall.stores.budget import current as current_budget
from footfall.stores.meta_sql import SQLMeta
from footfall.stores.migrate import pending_migrations
from footfall.stores.pg_copy import CopyPlan
from footfall.stores.pg_state import PostgresState
from footfall.stores.pg_types import NumberLoader
from footfall.stores.rows import COLUMNS, row_to_event, to_micros
from footfall.stores.sqltext import FORMAT, events_condition, events_where

__all__ = ["PostgresStore", "split_url"]

DEFAULT_POOL_SIZE = 10
CONNECT_TIMEOUT_S = 10.0
COPY_SLICE = 2_000  # events per COPY write: the server parses one while the next is formatted
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_COLS = ", ".join(COLUMNS)
_STAGE = "footfall_stage"
_CREATE_STAGE = (
    f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} "
    "(LIKE events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
)
_MOVE = (
    f"INSERT INTO events ({_COLS}) SELECT {_COLS} FROM {_STAGE} "  # noqa: S608 - fixed names
    "ON CONFLICT (id) DO NOTHING"
)
_SELECT = f"SELECT {_COLS} FROM events"  # noqa: S608 - fixed names
# COPY data is SQLite's encoding (pg_copy): ts in microseconds, JSON as text
# (the server parses it into jsonb), is_bot as the 0/1 smallint the schema
# uses on every store.
_MIGRATION_LOCK = 0x666F6F74  # "foot": pg_advisory_xact_lock key, per database
# Writers insert one at a time, so `events.seq` is handed out in commit order and the
# stats catch-up can trust a watermark on it (migration 0013).
WRITE_LOCK = 0x666F6F75
SERIAL_LOCK = 0x666F6F76  # held by `serial_transaction`: the catch-ups fold one at a time

T = TypeVar("T")


def split_url(url: str) -> tuple[str, str | None, int]:
    """`(libpq URL, schema, pool size)`: footfall's own parameters removed."""
    parts = urlsplit(url)
    if parts.scheme == "postgres":
        parts = parts._replace(scheme="postgresql")
    schema: str | None = None
    pool_size = DEFAULT_POOL_SIZE
    kept: list[tuple[str, str]] = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key == "schema":
            if not _IDENT.match(value):
                raise ConfigurationError(f"schema must match {_IDENT.pattern}, not {value!r}")
            schema = value
        elif key == "pool_size":
            try:
                pool_size = max(1, int(value))
            except ValueError:
                raise ConfigurationError(f"pool_size must be an integer, not {value!r}") from None
        else:
            kept.append((key, value))
    # quote, not quote_plus: libpq reads "+" as a plus sign, not a space
    query = urlencode(kept, quote_via=quote)
    return urlunsplit(parts._replace(query=query)), schema, pool_size


class _CopyData:
    """A batch ready for COPY, rendered by pg_copy a slice at a time inside the COPY.

    The column list is settled before the COPY starts; each slice of
    COPY_SLICE events is formatted just before it is sent, so the server
    inserts one slice while the next is being formatted. Slices render
    leniently: a value of the wrong type in an Event built without
    validation is converted the way psycopg's adaptation would, so a COPY
    under way is never abandoned for it.
    """

    def __init__(self, batch: list[Event]) -> None:
        self.size = len(batch)
        self.plan = CopyPlan(batch)
        self.columns = ", ".join(self.plan.names)  # names come from COLUMNS

    def into(self, cur: psycopg.Cursor[Any], table: str) -> None:
        with cur.copy(f"COPY {table} ({self.columns}) FROM STDIN") as copy:
            for start in range(0, self.size, COPY_SLICE):
                copy.write(self.plan.render(start, start + COPY_SLICE, lenient=True))


class PostgresStore(Store):
    """Events in PostgreSQL (psycopg 3, pooled connections, COPY for writes)."""

    dialect: ClassVar[str] = "postgres"
    paramstyle: ClassVar[str] = FORMAT
    holds_meta: ClassVar[bool] = True
    summaries = SUMMARIES_FOLDED
    driver_errors: ClassVar[tuple[type[Exception], ...]] = (psycopg.Error,)

    def __init__(self, url: str, *, pool_size: int | None = None) -> None:
        self.url = url
        self.conninfo, self.schema, size = split_url(url)
        self.pool_size = pool_size or size
        self._lock = threading.Lock()
        self._pool: ConnectionPool[psycopg.Connection[Any]] | None = None
        self._pid = os.getpid()

    # -- connections --------------------------------------------------------
    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        conn.adapters.register_loader("numeric", NumberLoader)
        # JIT compiles each stats query afresh (~0.2 s) and buys nothing on
        # queries that run a second or less; leave it to explicit sessions.
        conn.execute("SET jit = off")
        if self.schema:
            conn.execute(
                sql.SQL("SET search_path TO {}, public").format(sql.Identifier(self.schema))
            )
        conn.commit()

    @property
    def pool(self) -> ConnectionPool[psycopg.Connection[Any]]:
        """This process's pool (a forked child builds its own)."""
        if self._pid != os.getpid():
            self._pool, self._pid = None, os.getpid()
        pool = self._pool
        if pool is None:
            with self._lock:
                if self._pool is None:
                    self._ensure_schema()
                    self._pool = ConnectionPool(
                        self.conninfo,
                        min_size=1,
                        max_size=self.pool_size,
                        configure=self._configure,
                        timeout=CONNECT_TIMEOUT_S,
                        open=True,
                        name="footfall",
                    )
                pool = self._pool
        return pool

    def _ensure_schema(self) -> None:
        if not self.schema:
            return
        with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=10) as conn:
            conn.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
            )

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection in a transaction: committed on success, else rolled back."""
        with self.pool.connection() as conn:
            yield conn

    def _run(self, fn: Callable[[psycopg.Cursor[Any]], T]) -> T:
        with self.transaction() as conn, conn.cursor() as cur:
            return fn(cur)

    def query(self, query: str | sql.Composable, params: Sequence[Any] = ()) -> list[Any]:
        """Run a read query (`%s` placeholders, parameters bound) and fetch all rows.

        Under a time budget (`footfall.stores.budget`) the server cancels it at
        the deadline: `statement_timeout`, set for this transaction only.
        """
        budget = current_budget()
        if budget is None:
            return self._run(lambda cur: cur.execute(query, params).fetchall())  # type: ignore[arg-type]
        timeout = f"{max(1, int(budget.left() * 1000))}ms"

        def run(cur: psycopg.Cursor[Any]) -> list[Any]:
            cur.execute("SELECT set_config('statement_timeout', %s, true)", [timeout])
            return cur.execute(query, params).fetchall()  # type: ignore[arg-type]

        try:
            return self._run(run)
        except psycopg.errors.QueryCanceled:
            raise budget.exceeded() from None

    # -- contract -----------------------------------------------------------
    def migrate(self) -> list[str]:
        def apply(cur: psycopg.Cursor[Any]) -> list[str]:
            # One migrator at a time per database; others wait, then find nothing to do.
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            cur.execute(
                "CREATE TABLE IF NOT EXISTS footfall_migrations ("
                "version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)"
            )
            done = {r[0] for r in cur.execute("SELECT version FROM footfall_migrations")}
            applied: list[str] = []
            for m in pending_migrations(self.dialect, done):
                for stmt in m.statements:
                    cur.execute(stmt)  # shipped files, not input
                cur.execute(
                    "INSERT INTO footfall_migrations (version, name, applied_at) "
                    "VALUES (%s, %s, extract(epoch from now())::bigint)",
                    (m.version, m.name),
                )
                applied.append(m.label)
            return applied

        return self._run(apply)

    def write(self, events: Sequence[Event]) -> int:
        if not events:
            return 0
        unique: dict[str, Event] = {}
        for e in events:
            unique.setdefault(e.id, e)
        batch = list(unique.values())
        copy = _CopyData(batch)

        def insert(cur: psycopg.Cursor[Any]) -> int:
            # Held to commit (see WRITE_LOCK). Being the first statement, it also opens
            # the transaction, so `transaction()` below is a savepoint inside it.
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            try:
                # Fast path: new events (the usual case) go straight in. A
                # duplicate id aborts the COPY at the savepoint and nothing of
                # it stays; then the staged, ON CONFLICT path sorts it out.
                # (docs/decisions/0008-postgres-copy-text.md weighs the other ways.)
                with cur.connection.transaction():
                    copy.into(cur, "events")
                inserted = len(batch)
            except (psycopg.errors.UniqueViolation, psycopg.errors.DeadlockDetected):
                # (a deadlock: two writers copying overlapping batches in
                # different orders; the savepoint released our locks)
                cur.execute(_CREATE_STAGE)
                copy.into(cur, _STAGE)
                cur.execute(_MOVE)
                inserted = cur.rowcount
            self._after_insert(cur, events, inserted)
            return inserted

        return self._run(insert)

    def _after_insert(self, cur: psycopg.Cursor[Any], events: Sequence[Event], n: int) -> None:
        """Called in the write's transaction after the insert (a seam for subclasses)."""

    def get_usage(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 500,
        page: int = 1,
        filters: EventFilter | None = None,
    ) -> list[Event]:
        limit, offset = page_window(limit, page)
        where, params = events_where(start, end, filters, FORMAT)
        query = f"{_SELECT}{where} ORDER BY ts DESC, id DESC LIMIT %s OFFSET %s"
        rows = self.query(query, [*params, limit, offset])
        return [row_to_event(r) for r in rows]

    def iter_events(
        self,
        site: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        chunk: int = keyset.DEFAULT_CHUNK,
    ) -> Iterator[list[Event]]:
        return keyset.iter_events(self, site, start, end, chunk)

    def iter_rows(
        self,
        site: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        chunk: int = keyset.DEFAULT_CHUNK,
    ) -> Iterator[list[Sequence[Any]]]:
        return keyset.iter_rows(self, site, start, end, chunk)

    def count(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        filters: EventFilter | None = None,
    ) -> int:
        where, params = events_where(start, end, filters, FORMAT)
        return int(self.query(f"SELECT count(*) FROM events{where}", params)[0][0])  # noqa: S608

    def _delete(self, deletion: hooks.Deletion) -> int:
        """DELETE FROM events WHERE `deletion.where`, delete hooks first, in one transaction."""
        query = f"DELETE FROM events WHERE {deletion.where}"  # noqa: S608 - fixed SQL (sqltext)

        def delete(cur: psycopg.Cursor[Any]) -> int:
            hooks.before_delete(self, cur, deletion)
            return int(cur.execute(query, deletion.params).rowcount)

        return self._run(delete)

    def serial_transaction(self, fn: Callable[[psycopg.Connection[Any]], T]) -> T:
        """Run `fn(conn)` in a transaction holding SERIAL_LOCK: one at a time per
        database (what the stats catch-up folds in)."""
        with self.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SERIAL_LOCK,))
            # No server-side prepared statements here: a generic plan made while the
            # summary tables were small kept seq-scanning them as they grew
            # (docs/decisions/0004-summaries-trail-the-writes.md).
            threshold = conn.prepare_threshold
            conn.prepare_threshold = None
            try:
                return fn(conn)
            finally:
                conn.prepare_threshold = threshold

    def purge(self, before: datetime, site: str | None = None) -> int:
        where, params = events_condition(None, before, EventFilter(site=site), FORMAT)
        return self._delete(hooks.Deletion(where, params, to_micros(before), site))

    def delete_visitor(self, visitor_id: str, site: str | None = None) -> int:
        filters = EventFilter(site=site, visitor_id=visitor_id)
        where, params = events_condition(None, None, filters, FORMAT)
        return self._delete(hooks.Deletion(where, params, site=site))

    def meta(self) -> SQLMeta:
        """Sites, tokens and failed events in this database (migrations 0002-0004, 0040)."""
        return SQLMeta(self)

    def processor_state(self) -> PostgresState:
        """Visitor salts and visit state shared by every process (footfall.processors)."""
        return PostgresState(self)

    def is_writable(self) -> bool:
        try:
            return bool(self.query("SELECT NOT pg_is_in_recovery()")[0][0])
        except (psycopg.Error, OSError):
            return False

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None and self._pid == os.getpid():
            pool.close()
        super().close()

    def __repr__(self) -> str:
        return f"PostgresStore({redact_url(self.url)!r})"
