"""Send a site's report to its recipients once, whoever else is sending at the same time.

`footfall serve`'s schedule (every process) and `footfall reports send`
(cron) both end here. For each recipient the send log is claimed first
(`Meta.claim_report_send`): only the process whose claim wins renders and
sends, and it records the outcome, so a failure is retried by a later tick
and a success is never repeated. The report's numbers are asked for once per
site and period, and only when some recipient was claimed: a tick with
nothing due only reads the subscriptions and the send log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from footfall import settings
from footfall.errors import ConfigurationError
from footfall.reports.content import (
    Period,
    Report,
    build_report,
    last_complete,
    period_starting,
)
from footfall.reports.render import message
from footfall.reports.smtp import send_email
from footfall.stats.sites import site_info
from footfall.stores.meta import open_meta
from footfall.stores.meta_records import ReportSubscription

__all__ = ["GRACE", "Outcome", "next_due", "send_due", "send_report", "send_to", "smtp_url"]

# After a period ends, events of its last minutes may still be on their way
# (the collector's queue, a log import): reports wait this long.
GRACE = timedelta(minutes=10)

log = logging.getLogger("footfall.reports")


@dataclass
class Outcome:
    """What a round of sending did: who got a report, whose send failed and why."""

    sent: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def add(self, other: Outcome) -> None:
        self.sent += other.sent
        self.failed += other.failed


def smtp_url(url: str | None = None) -> str:
    """`url`, else `$FOOTFALL_SMTP_URL`; ConfigurationError when neither is set."""
    found = url or settings.SMTP_URL()
    if not found:
        raise ConfigurationError("no mail server: set FOOTFALL_SMTP_URL (docs/reports.md)")
    return found


def send_to(report: Report, to: str, url: str, token: str | None = None) -> None:
    """Render `report` for `to` and send it now (no send log: for `--to` and tests)."""
    send_email(url, message(report, to, token))


def send_report(
    store: Any,
    site: str,
    kind: str,
    period: Period,
    recipients: Iterable[ReportSubscription],
    url: str,
) -> Outcome:
    """Send `site`'s report over `period` to each recipient whose send this process claims."""
    meta = open_meta(store)
    outcome = Outcome()
    # A read first, so that a tick with everything sent writes nothing.
    done = {
        row.email
        for row in meta.report_sends(site)
        if row.period == kind and row.period_start == period.first and row.status == "sent"
    }
    claimed = [
        sub
        for sub in recipients
        if sub.email not in done and meta.claim_report_send(site, kind, period.first, sub.email)
    ]
    if not claimed:
        return outcome
    try:
        report = build_report(store, site, period)
    except Exception as exc:  # the store is down or slow: each claim is retried later
        log.exception("the %s report of %s could not be made", kind, site)
        for sub in claimed:
            meta.finish_report_send(site, kind, period.first, sub.email, f"report: {exc}")
            outcome.failed.append((sub.email, str(exc)))
        return outcome
    for sub in claimed:
        try:
            send_to(report, sub.email, url, sub.token)
        except Exception as exc:  # one recipient's failure never stops the others
            log.warning("the %s report of %s to %s failed: %s", kind, site, sub.email, exc)
            meta.finish_report_send(site, kind, period.first, sub.email, str(exc) or repr(exc))
            outcome.failed.append((sub.email, str(exc)))
        else:
            meta.finish_report_send(site, kind, period.first, sub.email)
            outcome.sent.append(sub.email)
    return outcome


def next_due(store: Any, now: datetime | None = None) -> tuple[datetime, str, str] | None:
    """When `send_due` next has a period to send: (UTC instant, site, "week"/"month").

    The end of the first period (plus `GRACE`) still ahead of `now`, over
    every subscribed site and period; None without subscriptions. A send
    that failed and waits for its retry is not counted.
    """
    now = now or datetime.now(timezone.utc)
    found: list[tuple[datetime, str, str]] = []
    for site, kind in sorted({(s.site, s.period) for s in open_meta(store).list_reports()}):
        try:
            tz = site_info(store, site).timezone
            period = last_complete(kind, tz, now)
        except Exception as exc:  # a bad time zone or failed read: that site is left out
            log.warning("the %s report of %s: cannot tell its period: %s", kind, site, exc)
            continue
        due = period.ends_at(tz) + GRACE
        if due <= now:  # already due: the next one is a period later
            due = period_starting(kind, period.last + timedelta(days=1)).ends_at(tz) + GRACE
        found.append((due, site, kind))
    return min(found, default=None)


def send_due(store: Any, url: str, now: datetime | None = None) -> Outcome:
    """Send every report whose period has ended (plus `GRACE`) and is not sent yet.

    A recipient gets the reports of periods that ended after they subscribed:
    subscribing on a Wednesday brings the next Monday's report, not last
    week's.
    """
    now = now or datetime.now(timezone.utc)
    groups: dict[tuple[str, str], list[ReportSubscription]] = {}
    for sub in open_meta(store).list_reports():
        groups.setdefault((sub.site, sub.period), []).append(sub)
    outcome = Outcome()
    for (site, kind), subs in groups.items():
        try:
            tz = site_info(store, site).timezone
            period = last_complete(kind, tz, now)
        except Exception:  # one site's bad time zone or failed read never stops the others
            log.exception("the %s report of %s: cannot tell its period", kind, site)
            continue
        ends = period.ends_at(tz)
        if now < ends + GRACE:
            continue
        due = [s for s in subs if s.created_at is None or s.created_at <= ends]
        if due:
            outcome.add(send_report(store, site, kind, period, due, url))
    return outcome
