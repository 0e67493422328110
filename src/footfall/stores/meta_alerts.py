"""Alert rules and their episodes in the SQL stores' meta side (migrations 0053, 0057).

Several processes check the same rules (every `footfall serve` worker, a
cron `footfall alerts check`), and each start or end of an episode must be
sent once. The state row of a rule and subject holds `firing` and a
`version`; a transition is one conditional UPDATE (`... WHERE firing = 0`),
so of the processes that see the same change only the one whose UPDATE
matched a row sends the message. SQLite serialises the writers; PostgreSQL
re-checks the WHERE of a waiting UPDATE once the first one commits.

A claimed transition whose message was never sent (the process died in
between) is not lost: migration 0057 records the last version sent
(`notified_version`) and when the transition was claimed (`claimed_at`), and
`reclaim_alert_transitions` hands a transition left unsent past a lease to
the one process whose conditional UPDATE on `claimed_at` matched it.

`SQLMeta` inherits these methods from `AlertsSQL`, so the statements for the
two alert tables sit together.
"""

from __future__ import annotations

import dataclasses
import math
import time
from datetime import datetime, timezone
from typing import Any

from footfall.errors import ValidationError
from footfall.stores.meta_records import ALERT_KINDS, AlertRule, AlertState
from footfall.stores.meta_statements import MetaStatements

__all__ = ["AlertsSQL", "check_alert"]

_RULE_COLS = "id, site, kind, threshold, window_seconds, min_requests, email, webhook, created_at"


def _when(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, timezone.utc)


def _rule(row: tuple[Any, ...]) -> AlertRule:
    return AlertRule(
        site=row[1],
        kind=row[2],
        threshold=float(row[3]),
        window_seconds=int(row[4]),
        min_requests=int(row[5]),
        email=row[6],
        webhook=row[7],
        id=int(row[0]),
        created_at=_when(row[8]),
    )


def check_alert(rule: AlertRule) -> None:
    """ValidationError for a rule no check could run: an unknown kind, a threshold
    that is not a number of at least 0, or nowhere to send its messages."""
    if rule.kind not in ALERT_KINDS:
        raise ValidationError("kind", f"one of {', '.join(ALERT_KINDS)}, not {rule.kind!r}")
    if not math.isfinite(rule.threshold) or rule.threshold < 0:
        raise ValidationError("threshold", "a number of at least 0")
    if rule.window_seconds < 0 or rule.min_requests < 0:
        raise ValidationError("window_seconds", "the window and the minimum are at least 0")
    if not rule.email and not rule.webhook:
        raise ValidationError("email", "an alert needs an email address or a webhook URL")


class AlertsSQL(MetaStatements):
    """The alerts part of `SQLMeta` (same store, same placeholders)."""

    def add_alert(self, rule: AlertRule) -> AlertRule:
        check_alert(rule)
        now = int(time.time())
        with self.store.transaction() as conn:
            cur = conn.cursor()
            cur.execute(
                self._sql(
                    "INSERT INTO alert_rules (site, kind, threshold, window_seconds, "
                    "min_requests, email, webhook, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"
                ),
                (
                    rule.site,
                    rule.kind,
                    float(rule.threshold),
                    int(rule.window_seconds),
                    int(rule.min_requests),
                    rule.email,
                    rule.webhook,
                    now,
                ),
            )
            rule_id = int(cur.fetchone()[0])
        return dataclasses.replace(rule, id=rule_id, created_at=_when(now))

    def list_alerts(self, site: str | None = None) -> list[AlertRule]:
        if site is None:
            rows = self._query(f"SELECT {_RULE_COLS} FROM alert_rules ORDER BY id")  # noqa: S608 - fixed columns
        else:
            rows = self._query(
                f"SELECT {_RULE_COLS} FROM alert_rules WHERE site = ? ORDER BY id",  # noqa: S608 - fixed columns
                (site,),
            )
        return [_rule(r) for r in rows]

    def remove_alert(self, rule_id: int) -> bool:
        with self.store.transaction() as conn:
            cur = conn.cursor()
            cur.execute(self._sql("DELETE FROM alert_state WHERE rule_id = ?"), (rule_id,))
            cur.execute(self._sql("DELETE FROM alert_rules WHERE id = ?"), (rule_id,))
            return int(cur.rowcount) > 0

    def alert_states(self, rule_id: int) -> list[AlertState]:
        rows = self._query(
            "SELECT rule_id, subject, firing, version, value, changed_at FROM alert_state "
            "WHERE rule_id = ? ORDER BY subject",
            (rule_id,),
        )
        return [
            AlertState(int(r[0]), r[1], bool(r[2]), int(r[3]), float(r[4]), _when(r[5]))
            for r in rows
        ]

    def alert_transition(
        self, rule_id: int, subject: str, firing: bool, value: float
    ) -> int | None:
        """Make `subject` firing (or not) unless it is already: the new version when
        this call changed it, None when it was so already (another process did it)."""
        now = int(time.time())
        with self.store.transaction() as conn:
            cur = conn.cursor()
            if firing:
                cur.execute(
                    self._sql(
                        "INSERT INTO alert_state (rule_id, subject, firing, version, value, "
                        "changed_at) VALUES (?, ?, 0, 0, 0, ?) "
                        "ON CONFLICT (rule_id, subject) DO NOTHING"
                    ),
                    (rule_id, subject, now),
                )
            cur.execute(
                self._sql(
                    "UPDATE alert_state SET firing = ?, version = version + 1, value = ?, "
                    "changed_at = ?, claimed_at = ? WHERE rule_id = ? AND subject = ? "
                    "AND firing = ? RETURNING version"
                ),
                (int(firing), float(value), now, now, rule_id, subject, int(not firing)),
            )
            row = cur.fetchone()
        return None if row is None else int(row[0])

    def revert_alert_transition(self, rule_id: int, subject: str, version: int) -> bool:
        """Undo the transition that made `version` (its message could not be sent),
        unless another one came after it; the next check then makes it again. The
        state it returns to was sent already when the one before it was, so the
        undo is not a transition to send."""
        with self.store.transaction() as conn:
            cur = conn.cursor()
            cur.execute(
                self._sql(
                    "UPDATE alert_state SET firing = 1 - firing, version = version + 1, "
                    "notified_version = CASE WHEN notified_version = version - 1 "
                    "THEN version + 1 ELSE notified_version END "
                    "WHERE rule_id = ? AND subject = ? AND version = ?"
                ),
                (rule_id, subject, version),
            )
            return int(cur.rowcount) > 0

    def alert_notified(self, rule_id: int, subject: str, version: int) -> None:
        """Record that the message of the transition that made `version` was sent."""
        with self.store.transaction() as conn:
            conn.cursor().execute(
                self._sql(
                    "UPDATE alert_state SET notified_version = ? "
                    "WHERE rule_id = ? AND subject = ? AND notified_version < ?"
                ),
                (version, rule_id, subject, version),
            )

    def reclaim_alert_transitions(self, rule_id: int, lease_seconds: int) -> list[AlertState]:
        """Claim again the rule's transitions that were claimed more than
        `lease_seconds` ago and never recorded as sent (their process died between
        the claim and the send). One conditional UPDATE on the claim time, so of
        several processes only one gets each; it must send them and then call
        `alert_notified`."""
        now = int(time.time())
        with self.store.transaction() as conn:
            cur = conn.cursor()
            cur.execute(
                self._sql(
                    "UPDATE alert_state SET claimed_at = ? WHERE rule_id = ? "
                    "AND version <> notified_version AND claimed_at <= ? "
                    "RETURNING rule_id, subject, firing, version, value, changed_at"
                ),
                (now, rule_id, now - lease_seconds),
            )
            rows = cur.fetchall()
        return sorted(
            (
                AlertState(int(r[0]), r[1], bool(r[2]), int(r[3]), float(r[4]), _when(r[5]))
                for r in rows
            ),
            key=lambda s: s.subject,
        )

    def _remove_site_alerts(self, cur: Any, site: str) -> None:
        """Inside `remove_site`'s transaction: the site's rules and their states go."""
        cur.execute(
            self._sql(
                "DELETE FROM alert_state "
                "WHERE rule_id IN (SELECT id FROM alert_rules WHERE site = ?)"
            ),
            (site,),
        )
        cur.execute(self._sql("DELETE FROM alert_rules WHERE site = ?"), (site,))
