"""Shared state of the visitor and visits processors, behind a small interface.

Cookieless visitor ids need one random salt per UTC day that every process
agrees on, and visits need the last-seen time of each visitor's current
visit, also shared: a visitor's requests land on any gunicorn worker or
collector process. Both live in the store's database, so a store backend
implements `ProcessorState` (SQLite's is here, PostgreSQL's in
`footfall.stores.pg_state`) and returns it from its `processor_state()`. A
store without one gets `MemoryState`, which is right only for a single
process, with a warning.

The contract, for implementers:

- `salt(day)` returns the salt of that UTC day, creating a random one if
  there is none. Two processes asking at once must get the same salt (insert
  if absent, then read, in one transaction).
- `prune_salts(keep_from)` deletes the salts of days before `keep_from`,
  comparing them as text. A log import keeps its secret as the salt of
  `import-secret` (footfall.importers.ids), which sorts after every date:
  it is never pruned.
- `visits()` is a context manager around ONE transaction that serialises
  writers of visit state (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: a
  transaction-scoped advisory lock or `SELECT ... FOR UPDATE`). Inside it,
  `load` reads rows, `replace` is a compare-and-set (True when the row still
  held `expected`, or was absent when `expected` is None), `store` upserts,
  and `prune` deletes rows last seen before a time. Times are UTC
  microseconds since the epoch. Optionally, `replace_many(items)` does
  `replace` for many `(key, expected, new)` at once and returns the keys
  that conflicted (SQLite: one `executemany`); the visits processor uses it
  when it is there.
- A database that cannot be reached or is locked past the store's patience
  raises `footfall.errors.StateUnavailable` (with the driver's error as its
  cause), from any of these: the delivery worker then holds the batch and
  retries. Any other error is taken for a bug, logged, and not retried.
"""

from __future__ import annotations

import logging
import os
import secrets
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, NamedTuple, Protocol, runtime_checkable

from footfall.errors import StateUnavailable

__all__ = [
    "MemoryState",
    "ProcessorState",
    "SQLiteState",
    "StateSource",
    "VisitKey",
    "VisitState",
    "VisitTx",
    "renew_lock_after_fork",
    "state_for",
]

log = logging.getLogger("footfall.processors")

VisitKey = tuple[str, str]  # (site, visitor_id)
SALT_BYTES = 32
_CHUNK = 400  # keys per IN (...) query; well under SQLite's variable limit


class VisitState(NamedTuple):
    """The current visit of one visitor; times in UTC microseconds."""

    visit_id: str
    started: int
    last_seen: int


@runtime_checkable
class VisitTx(Protocol):
    """Visit-state operations inside one serialising transaction."""

    def load(self, keys: Sequence[VisitKey]) -> dict[VisitKey, VisitState]:
        """The stored state of each key that has one."""

    def replace(self, key: VisitKey, expected: VisitState | None, new: VisitState) -> bool:
        """Write `new` only if the row still equals `expected` (absent if None)."""

    def store(self, key: VisitKey, new: VisitState) -> None:
        """Write `new` unconditionally (insert or update)."""

    def prune(self, before: int) -> int:
        """Delete visits last seen before `before`; return how many."""


@runtime_checkable
class ProcessorState(Protocol):
    """Salts and visit state shared by every process writing one store."""

    def salt(self, day: str) -> bytes:
        """The salt of UTC day `day` (YYYY-MM-DD), created if missing."""

    def prune_salts(self, keep_from: str) -> int:
        """Delete salts of days before `keep_from`; return how many."""

    def visits(self) -> AbstractContextManager[VisitTx]:
        """One transaction that serialises visit-state writers."""


# -- fork safety -------------------------------------------------------------
_LOCKED: weakref.WeakSet[Any] = weakref.WeakSet()


def renew_lock_after_fork(obj: Any) -> None:
    """Give `obj` a fresh `_lock` in a forked child.

    A lock held by another thread at `fork` (a worker mid-batch when an app
    server forks) would stay held forever in the child.
    """
    _LOCKED.add(obj)


def _after_fork() -> None:
    for obj in list(_LOCKED):
        obj._lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


# -- SQLite ------------------------------------------------------------------
# What SQLite says when the database is there but cannot be used now (a lock
# held past the store's patience, a full disk); "no such table" is not one.
_SQLITE_OUTAGES = ("locked", "busy", "disk i/o error", "unable to open", "disk is full", "readonly")


@contextmanager
def _sqlite_outage() -> Iterator[None]:
    try:
        yield
    except sqlite3.OperationalError as exc:
        if any(word in str(exc).lower() for word in _SQLITE_OUTAGES):
            raise StateUnavailable(f"SQLite: {exc}") from exc
        raise


class _SQLiteTx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def load(self, keys: Sequence[VisitKey]) -> dict[VisitKey, VisitState]:
        out: dict[VisitKey, VisitState] = {}
        for i in range(0, len(keys), _CHUNK):
            chunk = keys[i : i + _CHUNK]
            marks = ", ".join("(?, ?)" for _ in chunk)
            params = [v for key in chunk for v in key]
            sql = (
                "SELECT site, visitor_id, visit_id, started, last_seen FROM visit_state "  # noqa: S608 - only ? marks are pasted
                f"WHERE (site, visitor_id) IN (VALUES {marks})"
            )
            rows = self.conn.execute(sql, params)
            for site, visitor, visit_id, started, last_seen in rows:
                out[(site, visitor)] = VisitState(visit_id, started, last_seen)
        return out

    def replace(self, key: VisitKey, expected: VisitState | None, new: VisitState) -> bool:
        if expected is None:
            cur = self.conn.execute(
                "INSERT OR IGNORE INTO visit_state "
                "(site, visitor_id, visit_id, started, last_seen) VALUES (?, ?, ?, ?, ?)",
                (*key, *new),
            )
        else:
            cur = self.conn.execute(
                "UPDATE visit_state SET visit_id = ?, started = ?, last_seen = ? "
                "WHERE site = ? AND visitor_id = ? AND visit_id = ? AND started = ? "
                "AND last_seen = ?",
                (*new, *key, *expected),
            )
        return cur.rowcount == 1

    def replace_many(
        self, items: Sequence[tuple[VisitKey, VisitState, VisitState]]
    ) -> list[VisitKey]:
        """`replace` for many keys at once; return the keys that conflicted.

        One `executemany` of the compare-and-set updates; when every row
        matched (the common case: no other process saw these visitors) that
        is all. Otherwise the rows not holding their new state are the
        conflicts (the transaction holds the write lock: nothing moves
        meanwhile).
        """
        cur = self.conn.executemany(
            "UPDATE visit_state SET visit_id = ?, started = ?, last_seen = ? "
            "WHERE site = ? AND visitor_id = ? AND visit_id = ? AND started = ? "
            "AND last_seen = ?",
            [(*new, *key, *expected) for key, expected, new in items],
        )
        if cur.rowcount == len(items):
            return []
        current = self.load([key for key, _, _ in items])
        return [key for key, _, new in items if current.get(key) != new]

    def store(self, key: VisitKey, new: VisitState) -> None:
        self.conn.execute(
            "INSERT INTO visit_state (site, visitor_id, visit_id, started, last_seen) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (site, visitor_id) DO UPDATE SET "
            "visit_id = excluded.visit_id, started = excluded.started, "
            "last_seen = excluded.last_seen",
            (*key, *new),
        )

    def prune(self, before: int) -> int:
        return self.conn.execute("DELETE FROM visit_state WHERE last_seen < ?", (before,)).rowcount


class SQLiteState:
    """`ProcessorState` in the tables of migration 0030, on a `SQLiteStore`.

    Uses the store's own per-thread connections and `transaction()` (which
    takes the write lock up front), so several processes on one file agree.
    """

    def __init__(self, store: Any) -> None:
        self.store = store

    def salt(self, day: str) -> bytes:
        fresh = secrets.token_hex(SALT_BYTES)

        with _sqlite_outage(), self.store.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO visitor_salts (day, salt, created_at) VALUES (?, ?, ?)",
                (day, fresh, int(time.time())),
            )
            row = conn.execute("SELECT salt FROM visitor_salts WHERE day = ?", (day,)).fetchone()
        return bytes.fromhex(str(row[0]))

    def prune_salts(self, keep_from: str) -> int:
        with _sqlite_outage(), self.store.transaction() as conn:
            cur = conn.execute("DELETE FROM visitor_salts WHERE day < ?", (keep_from,))
            return int(cur.rowcount)

    @contextmanager
    def visits(self) -> Iterator[VisitTx]:
        with _sqlite_outage(), self.store.transaction() as conn:
            yield _SQLiteTx(conn)


# -- in memory ---------------------------------------------------------------
class _MemoryTx:
    def __init__(self, rows: dict[VisitKey, VisitState]) -> None:
        self.rows = rows

    def load(self, keys: Sequence[VisitKey]) -> dict[VisitKey, VisitState]:
        return {k: self.rows[k] for k in keys if k in self.rows}

    def replace(self, key: VisitKey, expected: VisitState | None, new: VisitState) -> bool:
        if self.rows.get(key) != expected:
            return False
        self.rows[key] = new
        return True

    def store(self, key: VisitKey, new: VisitState) -> None:
        self.rows[key] = new

    def prune(self, before: int) -> int:
        old = [k for k, v in self.rows.items() if v.last_seen < before]
        for k in old:
            del self.rows[k]
        return len(old)


class MemoryState:
    """`ProcessorState` held by this process only (tests, single-process apps)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._salts: dict[str, bytes] = {}
        self._rows: dict[VisitKey, VisitState] = {}
        renew_lock_after_fork(self)

    def salt(self, day: str) -> bytes:
        with self._lock:
            return self._salts.setdefault(day, secrets.token_bytes(SALT_BYTES))

    def prune_salts(self, keep_from: str) -> int:
        with self._lock:
            old = [d for d in self._salts if d < keep_from]
            for d in old:
                del self._salts[d]
            return len(old)

    @contextmanager
    def visits(self) -> Iterator[VisitTx]:
        with self._lock:
            yield _MemoryTx(self._rows)


class StateSource(Protocol):
    """What `state_for` asks of a store (`footfall.stores.base.Store` declares it)."""

    def processor_state(self) -> ProcessorState | None:
        """The store's shared state, or None where it keeps none."""

    def meta_home(self) -> StateSource:
        """The store that keeps its metadata (the `--meta` store, else itself)."""


def state_for(store: StateSource | None) -> ProcessorState:
    """The shared state kept with `store`'s metadata (the `--meta` store's
    `processor_state()` when one is attached), or in-memory state (with a
    warning) where there is none."""
    if store is None:
        return MemoryState()
    state = store.meta_home().processor_state()
    if state is not None:
        return state
    log.warning(
        "footfall: %r has no shared processor state; visitor salts and visits are kept "
        "in memory, so several processes will not agree on them",
        store,
    )
    return MemoryState()
