"""`Meta` (sites, tokens, failed events) for the PostgreSQL store; tables from 0002-0004.

Found by `footfall.stores.meta.open_meta` through this module's `open_meta`.
Same statements as meta_sqlite with PostgreSQL's spelling: `%s` placeholders,
`ON CONFLICT DO NOTHING` for "insert unless present", `RETURNING id` for the
identity a token gets.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from psycopg import sql

from footfall.stores.meta import FailedEvent, Meta, Site, Token
from footfall.stores.postgres import PostgresStore
from footfall.stores.rows import from_micros, to_micros

__all__ = ["PostgresMeta", "open_meta"]

_FAILED_COLS = "id, ts, reason, payload, event, site, source, schema, attempts, status"


def _when(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, timezone.utc)


def _token(row: tuple[Any, ...]) -> Token:
    return Token(int(row[0]), row[1], row[2], row[3], _when(row[4]), bool(row[5]))


def _failed(row: tuple[Any, ...]) -> FailedEvent:
    return FailedEvent(
        id=int(row[0]),
        ts=from_micros(row[1]),
        reason=row[2],
        payload=row[3],
        event=row[4],
        site=row[5],
        source=row[6],
        schema=row[7],
        attempts=int(row[8]),
        status=row[9],
    )


class PostgresMeta:
    """Sites, tokens and failed events in the PostgreSQL store's schema."""

    def __init__(self, store: PostgresStore) -> None:
        self.store = store

    def _change(self, query: str, params: tuple[Any, ...]) -> int:
        with self.store.transaction() as conn, conn.cursor() as cur:
            cur.execute(query, params)  # fixed statements below
            return cur.rowcount

    # -- sites --------------------------------------------------------------
    def add_site(self, site: Site) -> bool:
        return (
            self._change(
                "INSERT INTO sites (domain, timezone, public, created_at) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (domain) DO NOTHING",
                (site.domain, site.timezone, int(site.public), int(time.time())),
            )
            > 0
        )

    def get_site(self, domain: str) -> Site | None:
        rows = self.store.query(
            "SELECT domain, timezone, public, created_at FROM sites WHERE domain = %s", (domain,)
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
        rows = self.store.query(
            "INSERT INTO api_tokens (name, site, token_hash, prefix, created_at) "
            "VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (name, site, token_hash, prefix, now),
        )
        return Token(int(rows[0][0]), name, site, prefix, _when(now))

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
        return (
            self._change(
                "UPDATE api_tokens SET revoked = 1 WHERE id = %s AND revoked = 0", (token_id,)
            )
            > 0
        )

    # -- failed events ------------------------------------------------------
    def add_failed(self, rows: list[FailedEvent]) -> int:
        if not rows:
            return 0
        values = [
            (to_micros(r.ts), r.reason, r.payload, r.event, r.site, r.source, r.schema, r.status)
            for r in rows
        ]
        with self.store.transaction() as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO failed_events "
                "(ts, reason, payload, event, site, source, schema, status) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                values,
            )
        return len(values)

    def list_failed(
        self, status: str | None = "failed", limit: int = 100, site: str | None = None
    ) -> list[FailedEvent]:
        clauses: list[sql.Composable] = []
        params: list[Any] = []
        if status is not None:
            clauses.append(sql.SQL("status = %s"))
            params.append(status)
        if site is not None:
            clauses.append(sql.SQL("site = %s"))
            params.append(site)
        where = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(clauses) if clauses else sql.SQL("")
        params.append(max(1, min(int(limit), 100_000)))
        query = (
            sql.SQL(f"SELECT {_FAILED_COLS} FROM failed_events")  # noqa: S608 - fixed names
            + where
            + sql.SQL(" ORDER BY id LIMIT %s")
        )
        return [_failed(r) for r in self.store.query(query, params)]

    def set_failed_status(self, failed_id: int, status: str, reason: str | None = None) -> None:
        self._change(
            "UPDATE failed_events SET status = %s, reason = COALESCE(%s, reason), "
            "attempts = attempts + 1 WHERE id = %s",
            (status, reason, failed_id),
        )


def open_meta(store: Any) -> Meta:
    """The `Meta` of a PostgresStore."""
    if not isinstance(store, PostgresStore):
        raise TypeError(f"expected a PostgresStore, got {type(store).__name__}")
    return PostgresMeta(store)
