"""`Meta` (sites, tokens, failed events, goals) for the SQL stores; tables 0002-0004, 0040, 0050.

SQLite and PostgreSQL share one set of statements: both understand
`INSERT ... ON CONFLICT (...) DO NOTHING` and `RETURNING id` (SQLite since
3.35), so the only difference left is the placeholder, which
`footfall.stores.sqltext` converts to the store's `paramstyle`. Keeping one
copy means a fix to a statement reaches both stores.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime, timezone
from typing import Any

from footfall.stores.base import Store
from footfall.stores.meta_alerts import AlertsSQL
from footfall.stores.meta_dashboard import DashboardMetaSQL
from footfall.stores.meta_records import FailedEvent, SavedGoal, Site, Token
from footfall.stores.meta_reports import ReportsSQL
from footfall.stores.rows import from_micros, to_micros

__all__ = ["SQLMeta"]

_FAILED_COLS = "id, ts, reason, payload, event, site, source, schema, attempts, status, visitor_id"
_GOAL_COLS = "id, site, name, page, event, prop_key, prop_value, revenue_prop, currency, created_at"


def _when(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, timezone.utc)


def _site(row: tuple[Any, ...]) -> Site:
    return Site(row[0], row[1], bool(row[2]), _when(row[3]))


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
        visitor_id=row[10],
    )


def _goal(row: tuple[Any, ...]) -> SavedGoal:
    return SavedGoal(
        site=row[1],
        name=row[2],
        page=row[3],
        event=row[4],
        prop_key=row[5],
        prop_value=row[6],
        revenue_prop=row[7],
        currency=row[8],
        id=int(row[0]),
        created_at=_when(row[9]),
    )


class SQLMeta(DashboardMetaSQL, AlertsSQL, ReportsSQL):
    """Sites, tokens and failed events in the store's own database.

    `store` provides `transaction()` (a DB-API connection in a transaction)
    and `query(sql, params)`; the statements below are written with `?` and
    sent in the store's `paramstyle`.
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- sites --------------------------------------------------------------
    def add_site(self, site: Site) -> bool:
        inserted = self._change(
            "INSERT INTO sites (domain, timezone, public, created_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (domain) DO NOTHING",
            (site.domain, site.timezone, int(site.public), int(time.time())),
        )
        return inserted > 0

    def get_site(self, domain: str) -> Site | None:
        rows = self._query(
            "SELECT domain, timezone, public, created_at FROM sites WHERE domain = ?", (domain,)
        )
        return _site(rows[0]) if rows else None

    def list_sites(self) -> list[Site]:
        rows = self._query("SELECT domain, timezone, public, created_at FROM sites ORDER BY domain")
        return [_site(r) for r in rows]

    def update_site(
        self, domain: str, timezone: str | None = None, public: bool | None = None
    ) -> Site | None:
        if timezone is not None:
            self._change("UPDATE sites SET timezone = ? WHERE domain = ?", (timezone, domain))
        if public is not None:
            self._change("UPDATE sites SET public = ? WHERE domain = ?", (int(public), domain))
        return self.get_site(domain)

    def remove_site(self, domain: str) -> int | None:
        with self.store.transaction() as conn:
            cur = conn.cursor()
            cur.execute(self._sql("DELETE FROM sites WHERE domain = ?"), (domain,))
            if cur.rowcount < 1:
                return None
            cur.execute(
                self._sql("UPDATE api_tokens SET revoked = 1 WHERE site = ? AND revoked = 0"),
                (domain,),
            )
            revoked = int(cur.rowcount)
            cur.execute(self._sql("DELETE FROM goals WHERE site = ?"), (domain,))
            self._remove_site_notes(cur, domain)
            self._remove_site_reports(cur, domain)
            self._remove_site_alerts(cur, domain)
            return revoked

    # -- tokens -------------------------------------------------------------
    def add_token(self, name: str, site: str, token_hash: str, prefix: str) -> Token:
        now = int(time.time())
        with self.store.transaction() as conn:
            cur = conn.cursor()
            cur.execute(
                self._sql(
                    "INSERT INTO api_tokens (name, site, token_hash, prefix, created_at) "
                    "VALUES (?, ?, ?, ?, ?) RETURNING id"
                ),
                (name, site, token_hash, prefix, now),
            )
            token_id = int(cur.fetchone()[0])
        return Token(token_id, name, site, prefix, _when(now))

    def list_tokens(self) -> list[Token]:
        rows = self._query(
            "SELECT id, name, site, prefix, created_at, revoked FROM api_tokens ORDER BY id"
        )
        return [_token(r) for r in rows]

    def active_tokens(self) -> dict[str, Token]:
        rows = self._query(
            "SELECT id, name, site, prefix, created_at, revoked, token_hash "
            "FROM api_tokens WHERE revoked = 0"
        )
        return {r[6]: _token(r) for r in rows}

    def revoke_token(self, token_id: int) -> bool:
        changed = self._change(
            "UPDATE api_tokens SET revoked = 1 WHERE id = ? AND revoked = 0", (token_id,)
        )
        return changed > 0

    # -- failed events ------------------------------------------------------
    def add_failed(self, rows: list[FailedEvent]) -> int:
        if not rows:
            return 0
        values = [
            (
                to_micros(r.ts),
                r.reason,
                r.payload,
                r.event,
                r.site,
                r.source,
                r.schema,
                r.status,
                r.visitor_id,
            )
            for r in rows
        ]
        with self.store.transaction() as conn:
            conn.cursor().executemany(
                self._sql(
                    "INSERT INTO failed_events "
                    "(ts, reason, payload, event, site, source, schema, status, visitor_id) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                ),
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
        rows = self._query(
            f"SELECT {_FAILED_COLS} FROM failed_events{where} ORDER BY id LIMIT ?",  # noqa: S608 - fixed clauses, bound values
            params,
        )
        return [_failed(r) for r in rows]

    def set_failed_status(self, failed_id: int, status: str, reason: str | None = None) -> None:
        self._change(
            "UPDATE failed_events SET status = ?, reason = COALESCE(?, reason), "
            "attempts = attempts + 1 WHERE id = ?",
            (status, reason, failed_id),
        )

    def purge_failed(self, before: datetime, site: str | None = None) -> int:
        if site is None:
            return self._change("DELETE FROM failed_events WHERE ts < ?", (to_micros(before),))
        return self._change(
            "DELETE FROM failed_events WHERE ts < ? AND site = ?", (to_micros(before), site)
        )

    def delete_failed_visitor(self, visitor_id: str, site: str | None = None) -> int:
        if not visitor_id:
            return 0  # "" is "no visitor known", never a visitor to erase
        if site is None:
            return self._change("DELETE FROM failed_events WHERE visitor_id = ?", (visitor_id,))
        return self._change(
            "DELETE FROM failed_events WHERE visitor_id = ? AND site = ?", (visitor_id, site)
        )

    # -- goals --------------------------------------------------------------
    def add_goal(self, goal: SavedGoal) -> SavedGoal | None:
        now = int(time.time())
        with self.store.transaction() as conn:
            cur = conn.cursor()
            cur.execute(
                self._sql(
                    "INSERT INTO goals (site, name, page, event, prop_key, prop_value, "
                    "revenue_prop, currency, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (site, name) DO NOTHING RETURNING id"
                ),
                (
                    goal.site,
                    goal.name,
                    goal.page,
                    goal.event,
                    goal.prop_key,
                    goal.prop_value,
                    goal.revenue_prop,
                    goal.currency,
                    now,
                ),
            )
            row = cur.fetchone()
        if row is None:
            return None
        return dataclasses.replace(goal, id=int(row[0]), created_at=_when(now))

    def list_goals(self, site: str) -> list[SavedGoal]:
        rows = self._query(
            f"SELECT {_GOAL_COLS} FROM goals WHERE site = ? ORDER BY name",  # noqa: S608 - fixed columns
            (site,),
        )
        return [_goal(r) for r in rows]

    def remove_goal(self, site: str, name: str) -> bool:
        return self._change("DELETE FROM goals WHERE site = ? AND name = ?", (site, name)) > 0
