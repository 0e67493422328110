"""Check every alert rule once and send what started or ended: `footfall alerts check`.

An alert is an episode: one message when its condition starts, one
"resolved" message when it ends, nothing in between however often the
rules are checked. The episode's state is in the metadata store, so it
holds across restarts and across processes: every `footfall serve` worker
and a cron job may check at once, and each transition is claimed by a
conditional UPDATE (`Meta.alert_transition`), so exactly one of them sends
it. A transition whose message reached no channel is undone, so the next
check tries again instead of losing the alert. A transition claimed by a
process that died before sending it is claimed again once its claim is
older than `RESEND_AFTER` (`Meta.reclaim_alert_transitions`, one process
wins) and sent then.

Channels: email through `reports.smtp` (the server `FOOTFALL_SMTP_URL`
names) and a webhook through `reports.webhook`. One rule's failure (a
query, a channel) is logged and counted; the other rules still run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from footfall import settings
from footfall.reports import smtp
from footfall.reports.alert_message import AlertNotice, email_message, webhook_body
from footfall.reports.alert_rules import Measurement, measure
from footfall.reports.webhook import post_json, shown_url
from footfall.stores.meta import Meta, open_meta
from footfall.stores.meta_records import AlertRule

__all__ = ["CheckResult", "check_alerts", "deliver"]

EMAIL_TIMEOUT = 30.0  # seconds per SMTP operation
# seconds a claimed transition may stay unsent before another check sends it:
# far longer than a send takes (two channels, EMAIL_TIMEOUT each)
RESEND_AFTER = 600

log = logging.getLogger("footfall.alerts")


@dataclass
class CheckResult:
    """What one check did: rules read, messages sent, failures.

    A rule whose paths start (or end) episodes together sends one message
    for them all, so `fired` and `resolved` count messages, not paths.
    """

    rules: int = 0
    fired: int = 0  # messages this process sent for episodes it started
    resolved: int = 0  # messages this process sent for episodes it ended
    failed_rules: int = 0  # rules whose query failed
    undelivered: int = 0  # notices no channel took (tried again by a later check)


def deliver(notice: AlertNotice) -> bool:
    """Send `notice` to the rule's channels; True when at least one took it."""
    rule = notice.rule
    delivered = False
    if rule.email:
        url = settings.SMTP_URL()
        if not url:
            log.error("alert #%d has an email address but FOOTFALL_SMTP_URL is not set", rule.id)
        else:
            try:
                smtp.send_email(url, email_message(notice, rule.email), EMAIL_TIMEOUT)
                delivered = True
            except Exception as exc:  # a channel's failure never stops the check
                log.error("alert #%d: email not sent: %s", rule.id, exc)
    if rule.webhook:
        try:
            post_json(rule.webhook, webhook_body(notice))
            delivered = True
        except Exception as exc:  # the webhook module's errors name the host only
            log.error("alert #%d: webhook %s failed: %s", rule.id, shown_url(rule.webhook), exc)
    return delivered


def _claim(
    meta: Meta, rule: AlertRule, m: Measurement, firing_before: set[str]
) -> tuple[dict[str, tuple[float, int]], dict[str, tuple[float | None, int]]]:
    """Transitions this process won: started {subject: (value, version)}, ended likewise."""
    started: dict[str, tuple[float, int]] = {}
    for subject, value in m.firing.items():
        if subject in firing_before:
            continue
        version = meta.alert_transition(rule.id, subject, True, value)
        if version is not None:
            started[subject] = (value, version)
    ended: dict[str, tuple[float | None, int]] = {}
    for subject in sorted(firing_before - set(m.firing)):
        version = meta.alert_transition(rule.id, subject, False, m.value or 0.0)
        if version is not None:
            ended[subject] = (m.value if not subject else None, version)
    return started, ended


def _send(meta: Meta, rule: AlertRule, state: str, won: dict[str, Any], at: datetime) -> bool:
    if not won:
        return True
    notice = AlertNotice(rule, state, {s: value for s, (value, _) in won.items()}, at)
    if deliver(notice):
        for subject, (_, version) in won.items():
            meta.alert_notified(rule.id, subject, version)
        return True
    for subject, (_, version) in won.items():
        meta.revert_alert_transition(rule.id, subject, version)
    return False


def _resend(meta: Meta, rule: AlertRule, at: datetime, result: CheckResult) -> None:
    """Send the transitions of `rule` that a process claimed and died before
    sending. One that fails again keeps its new claim and is retried after the
    lease; it is not undone, since the episode did start (or end)."""
    pending = meta.reclaim_alert_transitions(rule.id, RESEND_AFTER)
    for state, firing in (("fired", True), ("resolved", False)):
        won = {
            s.subject: (s.value if firing or not s.subject else None, s.version)
            for s in pending
            if s.firing == firing
        }
        if not won:
            continue
        notice = AlertNotice(rule, state, {s: value for s, (value, _) in won.items()}, at)
        if not deliver(notice):
            result.undelivered += 1
            continue
        for subject, (_, version) in won.items():
            meta.alert_notified(rule.id, subject, version)
        if firing:
            result.fired += 1
        else:
            result.resolved += 1


def check_alerts(store: Any, site: str | None = None, now: datetime | None = None) -> CheckResult:
    """Check the rules (of `site`, or all) over `store`'s events at `now` and send
    the fire and resolved messages this process claims. Without rules it costs
    one small query of the metadata store."""
    meta = open_meta(store)
    result = CheckResult()
    rules = meta.list_alerts(site)
    result.rules = len(rules)
    at = now or datetime.now(timezone.utc)
    for rule in rules:
        try:
            _resend(meta, rule, at, result)
            m = measure(store, rule, at)
            firing_before = {s.subject for s in meta.alert_states(rule.id) if s.firing}
            started, ended = _claim(meta, rule, m, firing_before)
        except Exception:  # one rule's failure never stops the others
            log.exception(
                "alert #%d (%s on %s) could not be checked", rule.id, rule.kind, rule.site
            )
            result.failed_rules += 1
            continue
        if _send(meta, rule, "fired", started, at):
            result.fired += bool(started)
        else:
            result.undelivered += 1
        if _send(meta, rule, "resolved", ended, at):
            result.resolved += bool(ended)
        else:
            result.undelivered += 1
    return result
