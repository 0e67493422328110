"""`footfall serve` sends the email reports itself, soon after each week and month ends.

A daemon thread per server process wakes every `TICK_SECONDS` (with jitter,
so several processes do not wake together) and calls `send.send_due`, which
sends the reports whose period ended in the site's time zone and that nobody
has sent: the send log lets exactly one process send each, and the others
find it claimed. It runs only when a mail server is configured
(`$FOOTFALL_SMTP_URL`) and `$FOOTFALL_REPORTS_SCHEDULE` is not 0 (for setups
that send from cron with `footfall reports send`). A failing tick is logged
and never ends the thread.
"""

from __future__ import annotations

import logging
from typing import Any

from footfall import settings
from footfall.reports.periodic import Periodic
from footfall.reports.send import send_due

__all__ = ["EXTRAS_KEY", "TICK_SECONDS", "ReportSchedule", "start_report_schedule"]

# Where `footfall serve` keeps its `ReportSchedule` (None when off) in `ServerState.extras`.
EXTRAS_KEY = "footfall.reports.schedule"
TICK_SECONDS = 60.0

log = logging.getLogger("footfall.reports")


class ReportSchedule(Periodic):
    """Sends due reports every `interval` seconds until `stop()`."""

    def __init__(self, store: Any, url: str, interval: float = TICK_SECONDS) -> None:
        super().__init__("footfall-reports", interval)
        self.store = store
        self.url = url

    @property
    def ticks(self) -> int:
        """Ticks done (tests and /health readers)."""
        return self.runs

    def tick(self) -> None:
        """Send what is due now; log, never raise."""
        try:
            outcome = send_due(self.store, self.url)
        except Exception:
            log.exception("sending the due reports failed; next try in %.0fs", self.interval)
        else:
            if outcome.sent or outcome.failed:
                log.info("reports: %d sent, %d failed", len(outcome.sent), len(outcome.failed))


def start_report_schedule(store: Any) -> ReportSchedule | None:
    """Start the schedule, unless no mail server is set or `$FOOTFALL_REPORTS_SCHEDULE=0`."""
    url = settings.SMTP_URL()
    if not url or not settings.REPORTS_SCHEDULE():
        return None
    return ReportSchedule(store, url).start()
