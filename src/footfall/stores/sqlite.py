"""SQLite store: the zero-config default.

WAL mode so readers never block the writer; `BEGIN IMMEDIATE` so a batch
takes the write lock up front (no deadlock on lock upgrade); one transaction
per batch; and a retry loop with backoff around "database is locked", so
several processes (gunicorn workers) can write one file and the caller never
sees SQLITE_BUSY. Connections are per thread, as sqlite3 requires.
"""

from __future__ import annotations

import functools
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import datetime
from itertools import chain
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from footfall import settings
from footfall.backoff import backoff_delay
from footfall.event import Event
from footfall.processors.state import MemoryState, ProcessorState, SQLiteState
from footfall.redact import redact_url
from footfall.stores import hooks, keyset
from footfall.stores.base import SUMMARIES_FOLDED, EventFilter, Store, page_window
from footfall.stores.budget import current as current_budget
from footfall.stores.meta_sql import SQLMeta
from footfall.stores.migrate import pending_migrations
from footfall.stores.rows import COLUMNS, row_to_event, sqlite_columns, to_micros
from footfall.stores.sqlite_lock import WriterLock
from footfall.stores.sqltext import QMARK, events_condition, events_where

__all__ = ["BUSY_RETRY_SECONDS", "SQLiteStore", "WriteHook"]

BUSY_TIMEOUT_MS = 2_000  # sqlite's own wait for a lock, per attempt
BUSY_RETRY_SECONDS = 120.0  # our total patience with a locked database
BUSY_BACKOFF_BASE = 0.005  # seconds: the first wait after SQLITE_BUSY is up to this long
BUSY_BACKOFF_MAX = 0.5  # ceiling of one wait
PROGRESS_STEPS = 100_000  # VM steps between time-budget checks (~5 ms of a query)

log = logging.getLogger("footfall.stores")

T = TypeVar("T")


# SQLite's limit on bound parameters per statement (3.32+; 999 before).
MAX_VARIABLES = 32_766 if sqlite3.sqlite_version_info >= (3, 32) else 999
ROWS_PER_STATEMENT = 500


@functools.lru_cache(maxsize=256)
def _insert_rows_sql(columns: tuple[str, ...], n: int) -> str:
    """INSERT of `n` rows in one statement (names come from EVENT_FIELDS only)."""
    one = f"({', '.join('?' for _ in columns)})"
    return (
        f"INSERT OR IGNORE INTO events ({', '.join(columns)}) "  # noqa: S608 - fixed names
        f"VALUES {', '.join([one] * n)}"
    )


def _insert_rows(
    conn: sqlite3.Connection, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert a batch with one statement per few hundred rows.

    `executemany` steps the statement once per row, and the sqlite3 module
    releases and re-takes the GIL around every step: in a process whose event
    loop keeps the GIL busy (the collector), each re-take waits for a GIL
    hand-off, so a 1,000-row batch waited for 1,000 of them. Multi-row VALUES
    binds in C and steps once per statement.
    """
    per = max(1, min(ROWS_PER_STATEMENT, MAX_VARIABLES // max(1, len(columns))))
    for i in range(0, len(rows), per):
        part = rows[i : i + per]
        conn.execute(_insert_rows_sql(columns, len(part)), list(chain.from_iterable(part)))


# Called inside a batch's write transaction with only the events that were new
# (not already stored, first of any in-batch duplicates). None by default: the
# stats summaries trail the writes (footfall.stats.summaries.catchup) instead of
# sitting in them, so a write is only the insert. Deletes run the delete hooks
# of `footfall.stores.hooks` in their transaction.
WriteHook = Callable[[sqlite3.Connection, Sequence[Event]], None]


def _new_events(conn: sqlite3.Connection, events: Sequence[Event]) -> list[Event]:
    """The events of a batch whose id is not stored yet (looked up before inserting)."""
    ids = list({e.id for e in events})
    stored: set[str] = set()
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT id FROM events WHERE id IN ({marks})"  # noqa: S608 - only ? marks
        stored.update(r[0] for r in conn.execute(sql, chunk))
    fresh: list[Event] = []
    for e in events:
        if e.id not in stored:
            stored.add(e.id)
            fresh.append(e)
    return fresh


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    msg = str(exc).lower()
    return "locked" in msg or "busy" in msg


class SQLiteStore(Store):
    """Events in one SQLite file (or a shared in-memory database)."""

    dialect: ClassVar[str] = "sqlite"
    paramstyle: ClassVar[str] = QMARK
    holds_meta: ClassVar[bool] = True
    summaries = SUMMARIES_FOLDED
    driver_errors: ClassVar[tuple[type[Exception], ...]] = (sqlite3.Error,)

    def __init__(self, path: str | os.PathLike[str] = "footfall.db", *, url: str = "") -> None:
        raw = str(path)
        self.memory = raw in ("", ":memory:")
        if self.memory:
            # A named shared-cache database so every thread sees the same data.
            self.path = f"file:footfall-mem-{id(self)}?mode=memory&cache=shared"
        else:
            self.path = str(Path(raw).expanduser())
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.url = url or f"sqlite:///{raw}"
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._pid = os.getpid()
        self.write_hooks: list[WriteHook] = []
        # $FOOTFALL_SQLITE_WRITER_LOCK=0 leaves all waiting to SQLite (file systems
        # where flock misbehaves; the bench's side-by-side row).
        use_lock = not self.memory and settings.SQLITE_WRITER_LOCK()
        self._writer = WriterLock(self.path, BUSY_RETRY_SECONDS) if use_lock else None
        if self.memory:
            self._keepalive = self._connect()

    # -- connections --------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
            uri=self.memory,
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not self.memory:
            self._retry(lambda: conn.execute("PRAGMA journal_mode = WAL"))
        conn.execute("PRAGMA synchronous = NORMAL")
        with self._all_lock:
            self._all.append(conn)
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection (reconnects in a forked child)."""
        if self._pid != os.getpid():
            self._local = threading.local()
            self._all = []
            self._pid = os.getpid()
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    def _retry(self, fn: Callable[[], T]) -> T:
        deadline = time.monotonic() + BUSY_RETRY_SECONDS
        attempt = 0
        while True:
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() > deadline:
                    raise
                # Full jitter: processes that hit the lock together spread out at once.
                pause = backoff_delay(
                    attempt, base=BUSY_BACKOFF_BASE, cap=BUSY_BACKOFF_MAX, jitter=1
                )
                time.sleep(pause)
                attempt += 1

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction holding the database lock from its first statement."""
        conn = self.conn
        with self._writer.hold() if self._writer is not None else nullcontext():
            self._retry(lambda: conn.execute("BEGIN IMMEDIATE"))
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            try:
                self._retry(lambda: conn.execute("COMMIT"))
            except BaseException:
                # A COMMIT that fails (still busy at the deadline: a reader holding a
                # rollback journal's lock) leaves the transaction open, and every later
                # BEGIN on this thread's connection would fail: end it here.
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def serial_transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` in a write transaction, retrying the whole of it while busy.

        Every write transaction on SQLite is serial (`BEGIN IMMEDIATE`).
        """

        def attempt() -> T:
            with self.transaction() as conn:
                return fn(conn)

        return self._retry(attempt)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read query (parameters bound, never pasted) and fetch all rows.

        Under a time budget (`footfall.stores.budget`) a progress handler stops
        the query at its deadline. It runs every PROGRESS_STEPS virtual-machine
        steps (a few ms): each call takes the GIL, which the query itself, in
        C, does not hold.
        """
        budget = current_budget()
        if budget is None:
            return self._retry(lambda: self.conn.execute(sql, params).fetchall())
        conn = self.conn
        deadline = budget.deadline
        budget.left()
        conn.set_progress_handler(lambda: time.monotonic() > deadline, PROGRESS_STEPS)
        try:
            return self._retry(lambda: conn.execute(sql, params).fetchall())
        except sqlite3.OperationalError as exc:
            if str(exc) == "interrupted":
                raise budget.exceeded() from None
            raise
        finally:
            conn.set_progress_handler(None, 0)

    # -- contract -----------------------------------------------------------
    def migrate(self) -> list[str]:
        def apply(conn: sqlite3.Connection) -> list[str]:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS footfall_migrations ("
                "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
            )
            done = {r[0] for r in conn.execute("SELECT version FROM footfall_migrations")}
            applied: list[str] = []
            for m in pending_migrations(self.dialect, done):
                for stmt in m.statements:
                    conn.execute(stmt)
                conn.execute(
                    "INSERT INTO footfall_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (m.version, m.name, int(time.time())),
                )
                applied.append(m.label)
            return applied

        return self.serial_transaction(apply)

    def write(self, events: Sequence[Event]) -> int:
        if not events:
            return 0
        columns, rows = sqlite_columns(events)

        def insert(conn: sqlite3.Connection) -> int:
            fresh = _new_events(conn, events) if self.write_hooks else ()
            before = conn.total_changes
            _insert_rows(conn, columns, rows)
            inserted = conn.total_changes - before
            self._after_insert(conn, events, inserted)
            for hook in self.write_hooks:
                hook(conn, fresh)
            return inserted

        return self.serial_transaction(insert)

    def _after_insert(self, conn: sqlite3.Connection, events: Sequence[Event], n: int) -> None:
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
        where, params = events_where(start, end, filters)
        sql = (
            f"SELECT {', '.join(COLUMNS)} FROM events{where} "  # noqa: S608 - fixed identifiers
            "ORDER BY ts DESC, id DESC LIMIT ? OFFSET ?"
        )
        rows = self.query(sql, [*params, limit, offset])
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
        where, params = events_where(start, end, filters)
        return int(self.query(f"SELECT COUNT(*) FROM events{where}", params)[0][0])  # noqa: S608

    def purge(self, before: datetime, site: str | None = None) -> int:
        where, params = events_condition(None, before, EventFilter(site=site))
        return self._delete(hooks.Deletion(where, params, to_micros(before), site))

    def delete_visitor(self, visitor_id: str, site: str | None = None) -> int:
        where, params = events_condition(None, None, EventFilter(site=site, visitor_id=visitor_id))
        return self._delete(hooks.Deletion(where, params, site=site))

    def _delete(self, deletion: hooks.Deletion) -> int:
        """DELETE FROM events WHERE `deletion.where` (fixed SQL), delete hooks first,
        in one transaction."""
        where, params = deletion.where, deletion.params

        def delete(conn: sqlite3.Connection) -> int:
            hooks.before_delete(self, conn, deletion)
            return int(conn.execute(f"DELETE FROM events WHERE {where}", params).rowcount)  # noqa: S608

        return self.serial_transaction(delete)

    @property
    def location(self) -> str:
        """The database file (an in-memory database's name is unique per store)."""
        return self.path

    def meta(self) -> SQLMeta:
        """Sites, tokens and failed events in this file (migrations 0002-0004, 0040)."""
        return SQLMeta(self)

    def processor_state(self) -> ProcessorState:
        """Visitor salts and visit state in this file (migration 0030); in memory, per
        process, with a warning, when the tables are missing."""
        try:
            found = self.query(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' "
                "AND name IN ('visitor_salts', 'visit_state')"
            )
        except sqlite3.Error:
            found = [(0,)]
        if found[0][0] == 2:
            return SQLiteState(self)
        log.warning(
            "footfall: %r lacks the visitor/visit tables (run `footfall migrate`); "
            "visitor salts and visits are kept in memory, per process",
            self,
        )
        return MemoryState()

    def is_writable(self) -> bool:
        try:
            self.serial_transaction(lambda conn: conn.execute("SELECT 1"))
        except sqlite3.Error:
            return False
        return not (not self.memory and not os.access(self.path, os.W_OK))

    def close(self) -> None:
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            try:
                conn.close()
            except sqlite3.Error:
                pass
        self._local = threading.local()
        if self._writer is not None:
            self._writer.close()
        super().close()

    def __repr__(self) -> str:
        return f"SQLiteStore({redact_url(self.url)!r})"
