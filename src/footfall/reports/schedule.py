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
import random
import threading
from typing import Any

from footfall import settings
from footfall.reports.send import send_due

__all__ = ["EXTRAS_KEY", "TICK_SECONDS", "ReportSchedule", "start_report_schedule"]

# Where `footfall serve` keeps its `ReportSchedule` (None when off) in `ServerState.extras`.
EXTRAS_KEY = "footfall.reports.schedule"
TICK_SECONDS = 60.0

log = logging.getLogger("footfall.reports")


class ReportSchedule:
    """Sends due reports every `interval` seconds until `stop()`."""

    def __init__(self, store: Any, url: str, interval: float = TICK_SECONDS) -> None:
        self.store = store
        self.url = url
        self.interval = interval
        self.ticks = 0  # ticks done (tests and /health readers)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="footfall-reports", daemon=True)

    def start(self) -> ReportSchedule:
        self._thread.start()
        return self

    def tick(self) -> None:
        """Send what is due now; log, never raise."""
        try:
            outcome = send_due(self.store, self.url)
        except Exception:
            log.exception("sending the due reports failed; next try in %.0fs", self.interval)
        else:
            if outcome.sent or outcome.failed:
                log.info("reports: %d sent, %d failed", len(outcome.sent), len(outcome.failed))
        self.ticks += 1

    def _run(self) -> None:
        # The first tick waits too: the server's start is not the moment to query.
        while not self._stop.wait(self.interval * random.uniform(0.9, 1.1)):
            self.tick()

    @property
    def running(self) -> bool:
        """Whether the thread is alive (started and not stopped)."""
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)


def start_report_schedule(store: Any) -> ReportSchedule | None:
    """Start the schedule, unless no mail server is set or `$FOOTFALL_REPORTS_SCHEDULE=0`."""
    url = settings.SMTP_URL()
    if not url or not settings.REPORTS_SCHEDULE():
        return None
    return ReportSchedule(store, url).start()
