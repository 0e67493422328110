"""`footfall serve` checks the alert rules itself, every minute by default.

A daemon thread per server process calls `alerts.check_alerts` every
`$FOOTFALL_ALERTS_SECONDS` (default 60; 0 turns it off, for setups that run
`footfall alerts check` from cron instead). With no rules a check is one
small query of the metadata store. Several server processes may run it at
once: the metadata store lets exactly one of them send each message.
"""

from __future__ import annotations

import logging

from footfall import settings
from footfall.reports.alerts import check_alerts
from footfall.reports.periodic import Periodic
from footfall.stores.base import Store

__all__ = ["EXTRAS_KEY", "AlertLoop", "start_alert_loop"]

# Where `footfall serve` keeps its `AlertLoop` (None when turned off) in `ServerState.extras`.
EXTRAS_KEY = "footfall.reports.alert_loop"

log = logging.getLogger("footfall.alerts")


class AlertLoop(Periodic):
    """Checks the alerts every `interval` seconds until `stop()`; a failing check
    is logged, never ends the thread."""

    def __init__(self, store: Store, interval: float) -> None:
        super().__init__("footfall-alerts", interval)
        self.store = store

    @property
    def checks(self) -> int:
        """Checks made (tests and /health readers)."""
        return self.runs

    def tick(self) -> None:
        try:
            check_alerts(self.store)
        except Exception:
            log.exception("alert check failed; next one in %.0fs", self.interval)


def start_alert_loop(store: Store) -> AlertLoop | None:
    """Start the loop unless `$FOOTFALL_ALERTS_SECONDS` is 0."""
    interval = settings.ALERTS_SECONDS()
    if interval <= 0:
        return None
    return AlertLoop(store, interval).start()
