"""`Meta` (sites, tokens, failed events) for the SQLite store; tables from 0002-0004."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from footfall.stores.meta import FailedEvent, Site, Token
from footfall.stores.rows import from_micros, to_micros
from footfall.stores.sqlite import SQLiteStore

__all__ = ["SQLiteMeta"]

_FAILED_COLS = "id, ts, reason, payload, event, site, source, schema, attempts, status"


def _when(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, timezone.utc)


def _token(row: tuple[Any, ...]) -> Token:
    return Token(
        id=row[0],
        name=row[1],
        site=row[2],
        prefix=row[3],
        created_at=_when(row[4]),
        revoked=bool(row[5]),
    )


def _failed(row: tuple[Any, ...]) -> FailedEvent:
    return FailedEvent(
        id=row[0],
        ts=from_micros(row[1]),
        reason=row[2],
        payload=row[3],
        event=row[4],
        site=row[5],
        source=row[6],
        schema=row[7],
        attempts=row[8],
        status=row[9],
    )


class SQLiteMeta:
    """Sites, tokens and failed events kept in the SQLite store's own file."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store

    # -- sites --------------------------------------------------------------
    def add_site(self, site: Site) -> bool:
        with self.store.transaction() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO sites (domain, timezone, public, created_at) "
                "VALUES (?, ?, ?, ?)",
                (site.domain, site.timezone, int(site.public), int(time.time())),
            )
            return cur.rowcount > 0

    def get_site(self, domain: str) -> Site | None:
        rows = self.store.query(
            "SELECT domain, timezone, public, created_at FROM sites WHERE domain = ?", (domain,)
        )
        return Site(rows[0][0], rows[0][1], bool(rows[0][2]), _when(rows[0][3])) if rows else None

    def list_sites(self) -> list[Site]:
        rows = self.store.query(
            "SELECT domain, timezone, public, created_at FROM sites ORDER BY domain"
        )
        return [Site(r[0], r[1], bool(r[2]), _when(r[3])) for r in rows]

    # -- tokens -------------------------------------------------------------
    def add_token(self, name: str, site: str, token_hash: str, prefix: str) -> Token:
        now = int(time.time())
        with self.store.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO api_tokens (name, site, token_hash, prefix, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (name, site, token_hash, prefix, now),
            )
            token_id = int(cur.lastrowid or 0)
        return Token(token_id, name, site, prefix, _when(now))

    def list_tokens(self) -> list[Token]:
        rows = self.store.query(
            "SELECT id, name, site, prefix, created_at, revoked FROM api_tokens ORDER BY id"
        )
        return [_token(r) for r in rows]

    def active_tokens(self) -> dict[str, Token]:
        rows = self.store.query(
            "SELECT id, name, site, prefix, created_at, revoked, token_hash "
            "FROM api_tokens WHERE revoked = 0"
        )
        return {r[6]: _token(r) for r in rows}

    def revoke_token(self, token_id: int) -> bool:
        with self.store.transaction() as conn:
            cur = conn.execute(
                "UPDATE api_tokens SET revoked = 1 WHERE id = ? AND revoked = 0", (token_id,)
            )
            return cur.rowcount > 0

    # -- failed events ------------------------------------------------------
    def add_failed(self, rows: list[FailedEvent]) -> int:
        if not rows:
            return 0
        values = [
            (to_micros(r.ts), r.reason, r.payload, r.event, r.site, r.source, r.schema, r.status)
            for r in rows
        ]
        with self.store.transaction() as conn:
            conn.executemany(
                "INSERT INTO failed_events "
                "(ts, reason, payload, event, site, source, schema, status) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )
        return len(values)

    def list_failed(
        self, status: str | None = "failed", limit: int = 100, site: str | None = None
    ) -> list[FailedEvent]:
        clauses: list[str] = []
        params: list[Any] = []
        if status is not None:
            clauses.append("status = ?")
            params.append(status)
        if site is not None:
            clauses.append("site = ?")
            params.append(site)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        params.append(max(1, min(int(limit), 100_000)))
        rows = self.store.query(
            f"SELECT {_FAILED_COLS} FROM failed_events{where} ORDER BY id LIMIT ?",  # noqa: S608 - fixed clauses, bound values
            params,
        )
        return [_failed(r) for r in rows]

    def set_failed_status(self, failed_id: int, status: str, reason: str | None = None) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE failed_events SET status = ?, reason = COALESCE(?, reason), "
                "attempts = attempts + 1 WHERE id = ?",
                (status, reason, failed_id),
            )
