"""`footfall serve` keeps the stats summaries close behind the writes.

A daemon thread per server process folds newly stored events into the
summaries (`catchup.catch_up`) at startup and then every
`$FOOTFALL_CATCHUP_SECONDS` (default 1; 0 turns it off), a chunk per
transaction, so the write path stays a plain insert and the stats reads -
which catch up themselves before answering - rarely find much to do.
Several server processes may run it at once: chunks serialise on SQLite's
write lock and each event is folded once.

Ingestion comes first. Folding costs more CPU per event than storing it, and
the thread shares the process (and its GIL) with the collector: while this
process is ingesting hard (more than `$FOOTFALL_CATCHUP_BUSY_RATE` events/s,
default 10,000, or a write queue deeper than `BUSY_PENDING`), a tick is
skipped unless the summaries trail by more than `$FOOTFALL_CATCHUP_MAX_LAG`
events (default 200,000). So a burst is stored at full speed and summarised
right after it; under sustained heavy load the summaries trail by at most
about that many events, which the next stats read folds before answering -
or, when that is more than a read folds itself (`catchup.INLINE_SECONDS`),
hands to a background fold while it answers 503 "catching up".
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from footfall import settings
from footfall.stats.summaries.catchup import catch_up, lag
from footfall.stores.base import Store

__all__ = ["EXTRAS_KEY", "CatchUpThread", "ingest_busy", "start_catch_up"]

# Where `footfall serve` keeps its `CatchUpThread` (None when turned off) in
# `ServerState.extras`.
EXTRAS_KEY = "footfall.stats.summaries.thread"

DEFAULT_INTERVAL = settings.CATCHUP_SECONDS.default  # seconds between catch-ups
CHUNK = 10_000  # per transaction: a writer waits at most this long for the lock
# Events/s enqueued in this process above which it is "busy".
BUSY_RATE = settings.CATCHUP_BUSY_RATE.default
BUSY_PENDING = 1_000  # events waiting to be written above which it is "busy"
# Events the summaries may trail by before they run anyway.
MAX_LAG = settings.CATCHUP_MAX_LAG.default

log = logging.getLogger("footfall.server")


class CatchUpThread:
    """Runs catch-ups until `stop()`; a failing one is logged, never ends the thread."""

    def __init__(
        self,
        store: Store,
        interval: float = DEFAULT_INTERVAL,
        busy: Callable[[], bool] | None = None,
        max_lag: int = MAX_LAG,
    ) -> None:
        self.store = store
        self.interval = interval
        self.busy = busy
        self.max_lag = max_lag
        self.runs = 0  # catch-up calls made (tests and /health readers)
        self.folded = 0  # events read by them
        self.deferred = 0  # ticks skipped because ingestion was busy
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="footfall-catch-up", daemon=True)

    def start(self) -> CatchUpThread:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            n = 0
            try:
                if self.busy is not None and self.busy() and (lag(self.store) or 0) <= self.max_lag:
                    self.deferred += 1
                else:
                    # One chunk per call, so stop() and busy() are heard between chunks.
                    n = catch_up(self.store, chunk=CHUNK, max_events=CHUNK)
                    self.folded += n
            except Exception:
                log.exception("stats catch-up failed; retrying in %.1fs", self.interval)
            self.runs += 1
            if n < CHUNK:
                # Jitter, so several server processes do not wake together.
                self._stop.wait(self.interval * random.uniform(0.8, 1.2))

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)


def ingest_busy(worker: Any, rate: float = BUSY_RATE) -> Callable[[], bool]:
    """A `busy()` for the tracker worker `worker` (its `enqueued` and `pending`
    counters): true while events arrive faster than `rate`/s or queue up."""
    last = [worker.enqueued, time.monotonic()]

    def busy() -> bool:
        n, now = worker.enqueued, time.monotonic()
        arriving = (n - last[0]) / max(now - last[1], 1e-3)
        last[0], last[1] = n, now
        return bool(arriving > rate or worker.pending > BUSY_PENDING)

    return busy


def start_catch_up(store: Store, worker: Any = None) -> CatchUpThread | None:
    """Start the thread when the store keeps summaries and it is not turned off;
    with `worker` (the server's tracker worker) it yields to heavy ingestion."""
    interval = settings.CATCHUP_SECONDS()
    if interval <= 0:
        return None
    if lag(store) is None:  # not a store with summaries (or not migrated)
        return None
    busy = None
    if worker is not None:
        busy = ingest_busy(worker, settings.CATCHUP_BUSY_RATE())
    max_lag = settings.CATCHUP_MAX_LAG()
    return CatchUpThread(store, interval, busy, max_lag).start()
