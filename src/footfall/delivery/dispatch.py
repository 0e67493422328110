"""From a batch of raw events to every sink: processors, retries, callbacks, counters.

Runs on the worker thread. Each sink gets the processed batch on its own; a
sink that fails is retried with exponential backoff and full jitter, and a
sink that still fails is reported through `on_failure` without holding back
the others (the routing rule of edX event-tracking).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from footfall.delivery.sinks import Sink
from footfall.event import Event
from footfall.processors import Processor, run_chain

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_MAX",
    "MAX_RETRIES",
    "Counters",
    "Deferred",
    "Dispatcher",
]

MAX_RETRIES = 4  # attempts after the first, per sink and batch
BACKOFF_BASE = 0.2  # seconds; doubled each attempt
BACKOFF_MAX = 10.0  # seconds; ceiling of one wait

log = logging.getLogger("footfall.delivery")

OnSuccess = Callable[[int], object]
OnFailure = Callable[[int, list[Event]], object]


class Deferred(Protocol):
    """A queued item the worker turns into an event (`Tracker.defer`).

    Lets a request path queue the raw values it read and leave building the
    `Event` (id, timestamp, clipping, classification) to the worker thread.
    """

    def to_event(self) -> Event: ...


@dataclass
class Counters:
    """What happened to events after they left the calling thread."""

    delivered: int = 0  # accepted by every sink
    failed: int = 0  # given up on by at least one sink
    retried: int = 0  # retry attempts, counted in events
    filtered: int = 0  # dropped by a processor
    invalid: int = 0  # deferred items that could not become an event
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class Dispatcher:
    """Callable handed to the worker: processes one batch end to end."""

    def __init__(
        self,
        sinks: Sequence[Sink],
        processors: Sequence[Processor] = (),
        *,
        on_success: OnSuccess | None = None,
        on_failure: OnFailure | None = None,
        max_retries: int = MAX_RETRIES,
        backoff_base: float = BACKOFF_BASE,
        backoff_max: float = BACKOFF_MAX,
    ) -> None:
        self.sinks = list(sinks)
        self.processors = list(processors)
        self.on_success = on_success
        self.on_failure = on_failure
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.counters = Counters()
        self._stop = threading.Event()  # set at shutdown: cut retry waits short

    def __call__(self, batch: list[Any]) -> None:
        for item in batch:
            if type(item) is not Event:
                batch = self._materialize(batch)
                break
        events = run_chain(self.processors, batch)
        if len(events) != len(batch):
            with self.counters.lock:
                self.counters.filtered += len(batch) - len(events)
        if not events:
            return
        failed: dict[str, Event] = {}
        for sink in self.sinks:
            if not self._deliver(sink, events):
                for ev in events:
                    failed[ev.id] = ev
        delivered = len(events) - len(failed)
        with self.counters.lock:
            self.counters.delivered += delivered
            self.counters.failed += len(failed)
        if failed:
            self._callback(self.on_failure, delivered, list(failed.values()))
        else:
            self._callback(self.on_success, delivered)

    def _materialize(self, batch: list[Any]) -> list[Event]:
        """Events for the deferred items of `batch` (a failing one is logged and counted)."""
        out: list[Event] = []
        bad = 0
        for item in batch:
            if type(item) is Event:
                out.append(item)
                continue
            try:
                out.append(item.to_event())
            except Exception:
                bad += 1
                log.exception("footfall: could not build an event from %r", type(item).__name__)
        if bad:
            with self.counters.lock:
                self.counters.invalid += bad
        return out

    def _deliver(self, sink: Sink, events: list[Event]) -> bool:
        attempt = 0
        while True:
            try:
                sink.write(events)
                return True
            except Exception as exc:
                if attempt >= self.max_retries or self._stop.is_set():
                    log.error(
                        "footfall: sink %r gave up on %d events after %d attempts: %s",
                        sink,
                        len(events),
                        attempt + 1,
                        exc,
                    )
                    return False
                if getattr(exc, "retryable", True) is False:
                    log.error("footfall: sink %r refused %d events: %s", sink, len(events), exc)
                    return False
                delay = random.uniform(0, min(self.backoff_max, self.backoff_base * 2**attempt))
                attempt += 1
                with self.counters.lock:
                    self.counters.retried += len(events)
                log.warning(
                    "footfall: sink %r failed (%s); retry %d in %.2fs", sink, exc, attempt, delay
                )
                if self._stop.wait(delay):
                    time.sleep(0)  # shutting down: one last immediate try

    @staticmethod
    def _callback(fn: Callable[..., object] | None, *args: object) -> None:
        if fn is None:
            return
        try:
            fn(*args)
        except Exception:
            log.exception("footfall: delivery callback %r raised", fn)

    def stop_retrying(self) -> None:
        self._stop.set()

    def close(self) -> None:
        for sink in self.sinks:
            try:
                sink.close()
            except Exception:
                log.exception("footfall: closing sink %r failed", sink)
