"""Visitor salts and visit state (migration 0030) on PostgreSQL.

Implements footfall.processors.state.ProcessorState for `PostgresStore`
(returned by its `processor_state()` hook). Salts: insert-if-absent then read,
in one transaction, so every process gets the same salt for a day. Visits:
one transaction holding a transaction-scoped advisory lock, which serialises
visit-state writers across processes exactly as SQLite's `BEGIN IMMEDIATE`
does, and is released by COMMIT/ROLLBACK (never leaked by a dead process).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

import psycopg

from footfall.errors import StateUnavailable
from footfall.processors.state import SALT_BYTES, VisitKey, VisitState, VisitTx


class _Transactional(Protocol):
    """What the state needs of a `PostgresStore` (which builds this state, so it
    cannot be imported here without a cycle)."""

    def transaction(self) -> AbstractContextManager[psycopg.Connection[Any]]: ...


__all__ = ["PostgresState"]

_VISITS_LOCK = 0x76697369  # "visi": advisory lock key for visit-state writers
_CHUNK = 1_000  # keys per query


@contextmanager
def _outage() -> Iterator[None]:
    """A lost connection, a server shutting down or restarting, or a pool with
    no connection to give (`PoolTimeout`) is an outage; a missing table is not."""
    try:
        yield
    except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
        raise StateUnavailable(f"PostgreSQL: {exc}") from exc


class _PostgresTx:
    def __init__(self, cur: Any) -> None:
        self.cur = cur

    def load(self, keys: Sequence[VisitKey]) -> dict[VisitKey, VisitState]:
        out: dict[VisitKey, VisitState] = {}
        for i in range(0, len(keys), _CHUNK):
            chunk = keys[i : i + _CHUNK]
            self.cur.execute(
                "SELECT s.site, s.visitor_id, s.visit_id, s.started, s.last_seen "
                "FROM visit_state s JOIN unnest(%s::text[], %s::text[]) AS k(site, visitor_id) "
                "ON s.site = k.site AND s.visitor_id = k.visitor_id",
                ([k[0] for k in chunk], [k[1] for k in chunk]),
            )
            for site, visitor, visit_id, started, last_seen in self.cur.fetchall():
                out[(site, visitor)] = VisitState(visit_id, int(started), int(last_seen))
        return out

    def replace(self, key: VisitKey, expected: VisitState | None, new: VisitState) -> bool:
        if expected is None:
            self.cur.execute(
                "INSERT INTO visit_state (site, visitor_id, visit_id, started, last_seen) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (site, visitor_id) DO NOTHING",
                (*key, *new),
            )
        else:
            self.cur.execute(
                "UPDATE visit_state SET visit_id = %s, started = %s, last_seen = %s "
                "WHERE site = %s AND visitor_id = %s AND visit_id = %s AND started = %s "
                "AND last_seen = %s",
                (*new, *key, *expected),
            )
        return bool(self.cur.rowcount == 1)

    def store(self, key: VisitKey, new: VisitState) -> None:
        self.cur.execute(
            "INSERT INTO visit_state (site, visitor_id, visit_id, started, last_seen) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (site, visitor_id) DO UPDATE SET "
            "visit_id = excluded.visit_id, started = excluded.started, "
            "last_seen = excluded.last_seen",
            (*key, *new),
        )

    def prune(self, before: int) -> int:
        self.cur.execute("DELETE FROM visit_state WHERE last_seen < %s", (before,))
        return int(self.cur.rowcount)


class PostgresState:
    """`ProcessorState` in the tables of migration 0030, on a `PostgresStore`."""

    def __init__(self, store: _Transactional) -> None:
        self.store = store

    def salt(self, day: str) -> bytes:
        fresh = secrets.token_hex(SALT_BYTES)
        with _outage(), self.store.transaction() as conn, conn.cursor() as cur:
            cur.execute(
                "INSERT INTO visitor_salts (day, salt, created_at) VALUES (%s, %s, %s) "
                "ON CONFLICT (day) DO NOTHING",
                (day, fresh, int(time.time())),
            )
            cur.execute("SELECT salt FROM visitor_salts WHERE day = %s", (day,))
            row = cur.fetchone()
        assert row is not None  # inserted or already there, in this transaction
        return bytes.fromhex(str(row[0]))

    def prune_salts(self, keep_from: str) -> int:
        with _outage(), self.store.transaction() as conn, conn.cursor() as cur:
            cur.execute("DELETE FROM visitor_salts WHERE day < %s", (keep_from,))
            return int(cur.rowcount)

    @contextmanager
    def visits(self) -> Iterator[VisitTx]:
        with _outage(), self.store.transaction() as conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_VISITS_LOCK,))
            yield _PostgresTx(cur)
