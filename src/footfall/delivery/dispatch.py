"""From a batch of raw events to every sink: processors, retries, callbacks, counters.

Runs on the worker thread. Each sink gets the processed batch on its own; a
sink that fails is retried with capped exponential backoff and jitter, and a
sink that still fails is reported through `on_failure` without holding back
the others (the routing rule of edX event-tracking).

How long to keep trying is the owner's choice. A library tracker gives up
after `MAX_RETRIES`, so one dead sink delays the others only briefly. The
collector behind `footfall serve` has answered 202 for every event it holds,
so it uses `RETRY_FOREVER`: the batch in hand is retried until the sink takes
it or the tracker is closed, while new events wait in the bounded queue (and,
once it is full, are refused with 503). A batch the sink refuses as bad data
(`stream_worker.is_data_error`) is never retried: it would block the queue
forever.

The processors get the same policy when their shared state is unavailable
(`StateUnavailable`: the store holding visitor salts and visits is down):
the batch is held and the chain resumed from the step that stopped, so no
event goes to the sinks without the ids that step gives. A library tracker
that runs out of tries sends the batch on without that step (logged as an
error): the events are kept, only their visit or visitor ids are missing.
A processor's bug is not retried: it is logged and the event goes on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from footfall.backoff import backoff_delay
from footfall.delivery.sinks import Sink
from footfall.delivery.stream_worker import is_data_error
from footfall.event import Event
from footfall.processors import ChainInterrupted, Processor, resume_chain, run_chain

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_MAX",
    "MAX_RETRIES",
    "RETRY_FOREVER",
    "Counters",
    "Deferred",
    "Dispatcher",
]

MAX_RETRIES = 4  # attempts after the first, per sink and batch
RETRY_FOREVER = -1  # as `max_retries`: retry until delivered, a data error, or close
BACKOFF_BASE = 0.2  # seconds; doubled each attempt
BACKOFF_MAX = 10.0  # seconds; ceiling of one wait, so a store that is back is used soon

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


def _not_taken(exc: Exception, events: list[Event]) -> list[Event]:
    """A sink's error may name the part of the batch it failed (`HttpSink`'s `events`)."""
    part: list[Event] | None = getattr(exc, "events", None)
    return part if part else events


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
        events = self._process(batch)
        if len(events) != len(batch):
            with self.counters.lock:
                self.counters.filtered += len(batch) - len(events)
        if not events:
            return
        failed: dict[str, Event] = {}
        for sink in self.sinks:
            for ev in self._deliver(sink, events):
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

    def _process(self, batch: list[Event]) -> list[Event]:
        """Run the processors, holding the batch while a step's shared state is unavailable."""
        try:
            return run_chain(self.processors, batch)
        except ChainInterrupted as exc:
            held = exc
        attempt = 0
        while True:
            progress = held.progress
            if 0 <= self.max_retries <= attempt or self._stop.is_set():
                log.error(
                    "footfall: %s after %d attempts (%s); %d events go on without that step",
                    held,
                    attempt + 1,
                    held.__cause__,
                    progress.size,
                )
                return resume_chain(self.processors, progress, hold=False)
            delay = backoff_delay(attempt, base=self.backoff_base, cap=self.backoff_max)
            attempt += 1
            with self.counters.lock:
                self.counters.retried += progress.size
            log.warning(
                "footfall: %s (%s); %d events held, retry %d in %.2fs",
                held,
                held.__cause__,
                progress.size,
                attempt,
                delay,
            )
            self._stop.wait(delay)  # shutting down: one last immediate try
            try:
                return resume_chain(self.processors, progress)
            except ChainInterrupted as exc:
                held = exc

    def _deliver(self, sink: Sink, events: list[Event]) -> list[Event]:
        """Write `events` to `sink`, retrying; return the events it never took."""
        attempt = 0
        pending = events
        while True:
            try:
                sink.write(pending)
                return []
            except Exception as exc:
                pending = _not_taken(exc, pending)
                if is_data_error(exc):
                    log.error("footfall: sink %r refused %d events: %s", sink, len(pending), exc)
                    return pending
                out_of_tries = 0 <= self.max_retries <= attempt
                if out_of_tries or self._stop.is_set():
                    log.error(
                        "footfall: sink %r gave up on %d events after %d attempts: %s",
                        sink,
                        len(pending),
                        attempt + 1,
                        exc,
                    )
                    return pending
                delay = backoff_delay(attempt, base=self.backoff_base, cap=self.backoff_max)
                attempt += 1
                with self.counters.lock:
                    self.counters.retried += len(pending)
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
        """Make the batch in hand and every later one get one last try (shutdown)."""
        self._stop.set()

    def close(self) -> None:
        for sink in self.sinks:
            try:
                sink.close()
            except Exception:
                log.exception("footfall: closing sink %r failed", sink)
