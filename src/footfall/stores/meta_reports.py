"""Email report recipients and the send log in the SQL stores' meta side (migration 0052).

Every `footfall serve` process runs the report schedule, and cron may run
`footfall reports send` beside them, yet each recipient must get each report
once. The send log's primary key (site, period, period_start, email) is the
guard: a sender first claims the row, and only the process whose INSERT (or,
for a failed or abandoned row, whose conditional UPDATE) changed it sends.
SQLite serialises the writers; PostgreSQL makes a second INSERT of the same
key wait for the first and then do nothing, and re-checks the WHERE of a
waiting UPDATE once the first one commits. A failed send is recorded with
the time of its next try, so a later tick retries it, a bounded number of
times.

`SQLMeta` takes these methods from `ReportsSQL`; meta_sql.py keeps the rest.
"""

from __future__ import annotations

import secrets
import time
from contextlib import AbstractContextManager
from datetime import date, datetime, timezone
from typing import Any

from footfall.errors import ValidationError
from footfall.stores.meta_records import REPORT_PERIODS, ReportSend, ReportSubscription
from footfall.stores.meta_statements import MetaStatements

__all__ = ["MAX_ATTEMPTS", "ReportsSQL", "check_email", "check_period"]

MAX_EMAIL = 254  # RFC 5321's limit on a forward path
LEASE_SECONDS = 3600  # a "sending" row older than this belongs to a process that died
RETRY_FIRST_SECONDS = 300  # a failed send waits 5 minutes, then twice as long each time
RETRY_MAX_SECONDS = 6 * 3600
MAX_ATTEMPTS = 8  # then the report is given up (its row stays, with the last error)
MAX_ERROR = 500

_SUB_COLS = "id, site, email, period, token, created_at"


def _now() -> int:
    """Seconds since the epoch: the one clock of the send log (tests move it)."""
    return int(time.time())


def _when(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, timezone.utc)


def check_email(email: str) -> str:
    """The address as stored (trimmed, domain in lower case); ValidationError if it is not one.

    Only a plain `local@domain` is taken: no display name, spaces, commas or
    angle brackets, so an address can never add a header or a recipient.
    """
    clean = email.strip()
    local, at, domain = clean.rpartition("@")
    bad = any(ord(c) <= 32 or ord(c) == 127 or c in ',;<>()[]"\\' for c in clean)
    if not at or not local or "." not in domain.strip(".") or bad or len(clean) > MAX_EMAIL:
        raise ValidationError("email", f"an email address like name@example.com, not {email!r}")
    return f"{local}@{domain.lower()}"


def check_period(period: str) -> str:
    """`week` or `month`; ValidationError otherwise."""
    if period not in REPORT_PERIODS:
        raise ValidationError("period", f"one of {', '.join(REPORT_PERIODS)}, not {period!r}")
    return period


def _subscription(row: tuple[Any, ...]) -> ReportSubscription:
    return ReportSubscription(int(row[0]), row[1], row[2], row[3], row[4], _when(row[5]))


class ReportsSQL(MetaStatements):
    """The report part of `Meta`, over the `?` statements of `SQLMeta`."""

    def _transaction(self) -> AbstractContextManager[Any]:
        return self.store.transaction()  # type: ignore[no-any-return]

    # -- recipients -----------------------------------------------------------
    def add_report(self, site: str, email: str, period: str) -> ReportSubscription | None:
        """Subscribe `email` to the site's report; None when it already gets that one."""
        email, period = check_email(email), check_period(period)
        now, token = _now(), secrets.token_urlsafe(24)
        with self._transaction() as conn:
            cur = conn.cursor()
            cur.execute(
                self._sql(
                    "INSERT INTO report_subscriptions (site, email, period, token, created_at) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (site, email, period) DO NOTHING "
                    "RETURNING id"
                ),
                (site, email, period, token, now),
            )
            row = cur.fetchone()
        if row is None:
            return None
        return ReportSubscription(int(row[0]), site, email, period, token, _when(now))

    def list_reports(self, site: str | None = None) -> list[ReportSubscription]:
        if site is None:
            rows = self._query(
                f"SELECT {_SUB_COLS} FROM report_subscriptions ORDER BY site, period, email"  # noqa: S608 - fixed columns
            )
        else:
            rows = self._query(
                f"SELECT {_SUB_COLS} FROM report_subscriptions WHERE site = ? "  # noqa: S608 - fixed columns
                "ORDER BY period, email",
                (site,),
            )
        return [_subscription(r) for r in rows]

    def remove_report(self, site: str, email: str, period: str | None = None) -> int:
        email = email.strip()
        local, _, domain = email.rpartition("@")
        email = f"{local}@{domain.lower()}" if local else email
        if period is None:
            return self._change(
                "DELETE FROM report_subscriptions WHERE site = ? AND email = ?", (site, email)
            )
        return self._change(
            "DELETE FROM report_subscriptions WHERE site = ? AND email = ? AND period = ?",
            (site, email, period),
        )

    def report_by_token(self, token: str) -> ReportSubscription | None:
        rows = self._query(
            f"SELECT {_SUB_COLS} FROM report_subscriptions WHERE token = ?",  # noqa: S608 - fixed columns
            (token,),
        )
        return _subscription(rows[0]) if rows else None

    def unsubscribe_report(self, token: str) -> ReportSubscription | None:
        """End the subscription the token belongs to; it, or None when there is none."""
        with self._transaction() as conn:
            cur = conn.cursor()
            cur.execute(
                self._sql(
                    f"DELETE FROM report_subscriptions WHERE token = ? RETURNING {_SUB_COLS}"  # noqa: S608 - fixed columns
                ),
                (token,),
            )
            row = cur.fetchone()
        return None if row is None else _subscription(row)

    # -- the send log ---------------------------------------------------------
    def claim_report_send(self, site: str, period: str, period_start: date, email: str) -> bool:
        """True when this caller is to send the report now, False when another process
        sends or sent it (or it failed and waits for its next try, or was given up)."""
        now = _now()
        key = (site, period, period_start.isoformat(), email)
        with self._transaction() as conn:
            cur = conn.cursor()
            cur.execute(
                self._sql(
                    "INSERT INTO report_sends (site, period, period_start, email, status, "
                    "attempts, next_try, updated_at) VALUES (?, ?, ?, ?, 'sending', 1, ?, ?) "
                    "ON CONFLICT (site, period, period_start, email) DO NOTHING"
                ),
                (*key, now + LEASE_SECONDS, now),
            )
            if cur.rowcount > 0:
                return True
            cur.execute(
                self._sql(
                    "UPDATE report_sends SET status = 'sending', attempts = attempts + 1, "
                    "next_try = ?, updated_at = ? WHERE site = ? AND period = ? "
                    "AND period_start = ? AND email = ? AND status <> 'sent' "
                    "AND next_try <= ? AND attempts < ?"
                ),
                (now + LEASE_SECONDS, now, *key, now, MAX_ATTEMPTS),
            )
            return int(cur.rowcount) > 0

    def finish_report_send(
        self, site: str, period: str, period_start: date, email: str, error: str = ""
    ) -> None:
        """Record how a claimed send ended: sent, or failed with `error` (retried later)."""
        now = _now()
        key = (site, period, period_start.isoformat(), email)
        if not error:
            self._change(
                "UPDATE report_sends SET status = 'sent', error = '', updated_at = ? "
                "WHERE site = ? AND period = ? AND period_start = ? AND email = ?",
                (now, *key),
            )
            return
        rows = self._query(
            "SELECT attempts FROM report_sends "
            "WHERE site = ? AND period = ? AND period_start = ? AND email = ?",
            key,
        )
        attempts = int(rows[0][0]) if rows else 1
        wait = min(RETRY_MAX_SECONDS, RETRY_FIRST_SECONDS * 2 ** (attempts - 1))
        self._change(
            "UPDATE report_sends SET status = 'failed', error = ?, next_try = ?, updated_at = ? "
            "WHERE site = ? AND period = ? AND period_start = ? AND email = ?",
            (error[:MAX_ERROR], now + wait, now, *key),
        )

    def report_sends(self, site: str) -> list[ReportSend]:
        rows = self._query(
            "SELECT site, period, period_start, email, status, attempts, error, updated_at "
            "FROM report_sends WHERE site = ? ORDER BY period_start, period, email",
            (site,),
        )
        return [
            ReportSend(
                r[0], r[1], date.fromisoformat(r[2]), r[3], r[4], int(r[5]), r[6], _when(r[7])
            )
            for r in rows
        ]

    def _remove_site_reports(self, cur: Any, domain: str) -> None:
        """Part of `remove_site`: its recipients and send log go with it."""
        cur.execute(self._sql("DELETE FROM report_subscriptions WHERE site = ?"), (domain,))
        cur.execute(self._sql("DELETE FROM report_sends WHERE site = ?"), (domain,))
