"""The Tracker: emit events, stack contexts, route through processors to sinks.

Shaped after edX event-tracking: `emit(name, data)` stamps the time, merges
the active named contexts and hands the event on; every sink gets every event
and one sink's failure does not stop the others. Unlike edX, the hand-off is a
queue: processors and sinks run on a background worker, so `emit` costs a few
microseconds and never does I/O.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from footfall.context import ContextStack
from footfall.delivery.dispatch import Deferred, Dispatcher, OnFailure, OnSuccess
from footfall.delivery.sinks import Sink, StoreSink
from footfall.delivery.worker import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_FLUSH_INTERVAL,
    DEFAULT_QUEUE_SIZE,
    BackgroundWorker,
)
from footfall.errors import ValidationError
from footfall.event import EVENT_FIELDS, MAX_NAME, Event, check_fields
from footfall.origin import current as current_origin
from footfall.processors import Processor, warm
from footfall.stores import connect
from footfall.stores.base import Store
from footfall.subject import Subject

__all__ = ["DeliveryStats", "Tracker", "emit", "get_tracker", "register_tracker"]

log = logging.getLogger("footfall.tracker")

_FIELD_SET = frozenset(EVENT_FIELDS)


@dataclass(frozen=True)
class DeliveryStats:
    """A snapshot of a tracker's delivery counters."""

    enqueued: int
    delivered: int
    dropped: int
    failed: int
    retried: int
    filtered: int
    invalid: int
    pending: int


def preferred_batch_size(sinks: Sequence[Sink]) -> int:
    """The worker's batch size for `sinks`: their common hint, else the default.

    Only when every sink asks for bigger batches (ClickHouse stores) does the
    tracker batch more than DEFAULT_BATCH_SIZE: a sink without a hint (an
    HTTP sink posting to a collector with a body limit, say) gets what it
    always got.
    """
    hints = [getattr(s, "preferred_batch_size", None) for s in sinks]
    if not hints or any(h is None for h in hints):
        return DEFAULT_BATCH_SIZE
    return max(DEFAULT_BATCH_SIZE, min(int(h) for h in hints if h is not None))


def _as_sink(obj: Any) -> Sink:
    if isinstance(obj, str):
        return StoreSink(connect(obj))
    if isinstance(obj, Store):
        return StoreSink(obj)
    if not isinstance(obj, Sink):
        raise TypeError(f"{obj!r} is not a sink (needs write(events) and close())")
    return obj


class Tracker:
    """Emits events to sinks through a background worker.

    `sinks` are `Sink` objects, `Store` objects or store URLs. `processors`
    run in order on the worker. `site` and `source` are defaults for events
    that do not name their own; `subject` fills user fields. `batch_size`
    defaults to DEFAULT_BATCH_SIZE, or to the sinks' common
    `preferred_batch_size` when every sink has one (ClickHouse stores).
    """

    def __init__(
        self,
        sinks: Iterable[Sink | Any] = (),
        processors: Sequence[Processor] = (),
        *,
        site: str = "",
        source: str = "api",
        subject: Subject | None = None,
        name: str = "default",
        queue_size: int = DEFAULT_QUEUE_SIZE,
        batch_size: int | None = None,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        on_success: OnSuccess | None = None,
        on_failure: OnFailure | None = None,
        max_retries: int | None = None,
    ) -> None:
        self.name = name
        self.site = site
        self.source = source
        self.subject = subject
        self._contexts = ContextStack(name)
        kwargs: dict[str, Any] = {}
        if max_retries is not None:
            kwargs["max_retries"] = max_retries
        self.dispatcher = Dispatcher(
            [_as_sink(s) for s in sinks],
            processors,
            on_success=on_success,
            on_failure=on_failure,
            **kwargs,
        )
        if batch_size is None:
            batch_size = preferred_batch_size(self.dispatcher.sinks)
        self.worker = BackgroundWorker(
            self.dispatcher,
            queue_size=queue_size,
            batch_size=batch_size,
            flush_interval=flush_interval,
            name=f"footfall-{name}",
        )
        self.invalid = 0

    # -- properties ---------------------------------------------------------
    @property
    def sinks(self) -> list[Sink]:
        return self.dispatcher.sinks

    @property
    def processors(self) -> list[Processor]:
        return self.dispatcher.processors

    # -- contexts -----------------------------------------------------------
    def enter_context(self, name: str, ctx: Mapping[str, Any]) -> None:
        """Activate `ctx` under `name` for this thread or task until `exit_context`."""
        self._contexts.enter(name, ctx)

    def exit_context(self, name: str) -> None:
        """Deactivate the innermost context called `name`."""
        self._contexts.exit(name)

    def context(self, name: str, ctx: Mapping[str, Any]) -> AbstractContextManager[None]:
        """`with tracker.context("request", {...}):` activates `ctx` for the block."""
        return self._contexts.scoped(name, ctx)

    def resolve_context(self) -> dict[str, Any]:
        """The merged active contexts (innermost wins)."""
        return self._contexts.merged()

    # -- emitting -----------------------------------------------------------
    def build(
        self,
        name: str,
        data: Mapping[str, Any] | None = None,
        *,
        subject: Subject | None = None,
        **fields: Any,
    ) -> Event:
        """Make and validate the event `emit` would send, without sending it.

        Context keys that are event fields (``site``, ``user_id``, ...) fill
        those fields unless given here; the others land in ``event.context``.
        Inside a request a web integration tracks, the request's site, IP,
        user agent and cookie visitor id fill those that are still empty
        (`footfall.origin`), so the event counts as the request's visitor.
        """
        return self._make(name, data, subject, fields)

    def _make(
        self,
        name: str,
        data: Mapping[str, Any] | None,
        subject: Subject | None,
        fields: dict[str, Any],
    ) -> Event:
        # The hot path of every emit: keep it flat (no helper calls unless needed).
        if self._contexts.active():
            self._apply_context(fields)
        subj = subject or self.subject
        if subj is not None:
            for key, value in subj.fields().items():
                fields.setdefault(key, value)
        if self.site and "site" not in fields:
            fields["site"] = self.site
        origin = current_origin()
        if origin is not None:  # emitted while a tracked request is handled: its visitor
            for key, value in origin.origin_fields().items():
                fields.setdefault(key, value)
        if self.source != "api" and "source" not in fields:
            fields["source"] = self.source
        if data:
            fields["props"] = dict(data)
        if type(name) is not str or not name or len(name) > MAX_NAME or "\x00" in name:
            check_fields({"name": name})
        if fields:
            check_fields(fields)
        return Event(name=name, **fields)

    def _apply_context(self, fields: dict[str, Any]) -> None:
        ctx: dict[str, Any] = {}
        for key, value in self._contexts.merged().items():
            if key in _FIELD_SET:
                fields.setdefault(key, value)
            else:
                ctx[key] = value
        if ctx:
            extra = fields.get("context")
            fields["context"] = {**ctx, **extra} if extra else ctx

    def emit(
        self,
        name: str,
        data: Mapping[str, Any] | None = None,
        *,
        subject: Subject | None = None,
        **fields: Any,
    ) -> Event:
        """Record one event: `data` becomes its props, `fields` set event fields.

        Raises `ValidationError` for an invalid event; otherwise returns the
        event that was queued (or dropped, if the queue was full).
        """
        try:
            event = self._make(name, data, subject, fields)
        except ValidationError:
            self.invalid += 1
            raise
        self.worker.submit(event)
        return event

    def send(self, event: Event) -> bool:
        """Queue an already-built event (from middleware or the collector)."""
        return self.worker.submit(event)

    def defer(self, item: Deferred) -> bool:
        """Queue an item the worker turns into an event with `item.to_event()`.

        The web integrations queue the raw values of a request this way, so
        building the `Event` (id, timestamp, limits) runs on the worker thread
        instead of the request path. Processors and sinks see only events.
        """
        return self.worker.submit(item)

    # -- lifecycle ----------------------------------------------------------
    def warm(self) -> None:
        """Load the processors' rules and databases now instead of in the first batch.

        Call it where a pre-forking server loads the app (gunicorn
        `--preload`), so the workers share what was loaded; see
        `footfall.processors.warm`.
        """
        warm(self.processors)

    def flush(self, timeout: float | None = None) -> bool:
        """Block until everything emitted so far reached the sinks (or timeout)."""
        return self.worker.flush(timeout)

    def close(self, timeout: float | None = 5.0) -> int:
        """Flush, stop the worker and close sinks; return events not delivered.

        When `timeout` runs out first, the sinks are left open: the worker
        thread may be inside a write, and closing a store under it can block
        on that write (or break it). The process is usually exiting then.
        """
        left = self.worker.close(timeout)
        self.dispatcher.stop_retrying()
        if left:
            log.warning("footfall: tracker %r closed with %d events undelivered", self.name, left)
        else:
            self.dispatcher.close()
        return left

    def stats(self) -> DeliveryStats:
        """Counters: enqueued, delivered, dropped, failed, retried, ..."""
        c = self.dispatcher.counters
        return DeliveryStats(
            enqueued=self.worker.enqueued,
            delivered=c.delivered,
            dropped=self.worker.dropped,
            failed=c.failed,
            retried=c.retried,
            filtered=c.filtered,
            invalid=self.invalid + c.invalid,
            pending=self.worker.pending,
        )

    def __repr__(self) -> str:
        return f"Tracker(name={self.name!r}, sinks={self.sinks!r})"


class _NullTracker(Tracker):
    """The default before configuration: accepts calls, keeps nothing."""

    def emit(
        self,
        name: str,
        data: Mapping[str, Any] | None = None,
        *,
        subject: Subject | None = None,
        **fields: Any,
    ) -> Event:
        return self._make(name, data, subject, fields)

    def send(self, event: Event) -> bool:
        return False

    def defer(self, item: Deferred) -> bool:
        return False


_registry: dict[str, Tracker] = {}
_null = _NullTracker(name="null")


def register_tracker(tracker: Tracker, name: str = "default") -> Tracker:
    """Make `tracker` the one `get_tracker(name)` and module-level `emit` use."""
    _registry[name] = tracker
    return tracker


def unregister_tracker(name: str = "default") -> Tracker | None:
    return _registry.pop(name, None)


def get_tracker(name: str = "default") -> Tracker:
    """The registered tracker, or a do-nothing one before configuration."""
    return _registry.get(name, _null)


def emit(name: str, data: Mapping[str, Any] | None = None, **fields: Any) -> Event:
    """Emit through the default tracker."""
    return get_tracker().emit(name, data, **fields)


def iter_trackers() -> Iterator[Tracker]:
    return iter(list(_registry.values()))
