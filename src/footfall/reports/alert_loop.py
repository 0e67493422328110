"""`footfall serve` checks the alert rules itself, every minute by default.

A daemon thread per server process calls `alerts.check_alerts` every
`$FOOTFALL_ALERTS_SECONDS` (default 60; 0 turns it off, for setups that run
`footfall alerts check` from cron instead). With no rules a check is one
small query of the metadata store. Several server processes may run it at
once: the metadata store lets exactly one of them send each message.
"""

from __future__ import annotations

import logging
import random
import threading

from footfall import settings
from footfall.reports.alerts import check_alerts
from footfall.stores.base import Store

__all__ = ["EXTRAS_KEY", "AlertLoop", "start_alert_loop"]

# Where `footfall serve` keeps its `AlertLoop` (None when turned off) in `ServerState.extras`.
EXTRAS_KEY = "footfall.reports.alert_loop"

log = logging.getLogger("footfall.alerts")


class AlertLoop:
    """Checks the alerts every `interval` seconds until `stop()`; a failing check
    is logged, never ends the thread."""

    def __init__(self, store: Store, interval: float) -> None:
        self.store = store
        self.interval = interval
        self.checks = 0  # checks made (tests and /health readers)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="footfall-alerts", daemon=True)

    def start(self) -> AlertLoop:
        self._thread.start()
        return self

    def _run(self) -> None:
        # Jitter, so several server processes do not query together; the first
        # check waits too, leaving the start to the server.
        while not self._stop.wait(self.interval * random.uniform(0.9, 1.1)):
            try:
                check_alerts(self.store)
            except Exception:
                log.exception("alert check failed; next one in %.0fs", self.interval)
            self.checks += 1

    @property
    def running(self) -> bool:
        """Whether the thread is still running (it ends soon after `stop()`)."""
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)


def start_alert_loop(store: Store) -> AlertLoop | None:
    """Start the loop unless `$FOOTFALL_ALERTS_SECONDS` is 0."""
    interval = settings.ALERTS_SECONDS()
    if interval <= 0:
        return None
    return AlertLoop(store, interval).start()
