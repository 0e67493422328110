"""The Tracker: emit events, stack contexts, route through processors to sinks.

Shaped after edX event-tracking: `emit(name, data)` stamps the time, merges
the active named contexts and hands the event on; every sink gets every event
and one sink's failure does not stop the others. Unlike edX, the hand-off is a
queue: processors and sinks run on a background worker, so `emit` costs a few
microseconds and never does I/O.
"""

from __future__ import annotations

import logging
import time
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
from footfall.processors.defaults import default_processors
from footfall.stores import connect
from footfall.stores.base import Store
from footfall.subject import Subject

__all__ = ["DeliveryStats", "Tracker", "emit", "get_tracker", "register_tracker"]

log = logging.getLogger("footfall.tracker")

_FIELD_SET = frozenset(EVENT_FIELDS)


@dataclass(frozen=True)
class DeliveryStats:
    """A snapshot of a tracker's delivery counters.

    `spooled` events were handed to a sink that holds them for later
    (`HttpSink`'s spool while its collector is down): not `delivered` until a
    replay sends them, or `failed` if the collector then refuses them.
    """

    enqueued: int
    delivered: int
    dropped: int
    failed: int
    retried: int
    filtered: int
    invalid: int
    pending: int
    spooled: int = 0


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


def _default_chain(sinks: Sequence[Sink]) -> list[Processor]:
    """The processors of a tracker that was given none: the default chain where it writes a store.

    Events take the default chain once, on their way into a store. A tracker
    writing one directly is that way, so it enriches them (browser, bots,
    geo, visitor and visit ids, the IP dropped) with the first store's shared
    salts and visits. A tracker that only hands events on (`HttpSink`,
    `CelerySink`) leaves them to the side that stores them: the collector,
    the Celery task. It has no store to share salts through. (`footfall
    worker` stores a Redis Stream as it is: a `RedisSink` app passes its chain.)
    """
    store = next((s.store for s in sinks if isinstance(s, StoreSink)), None)
    return default_processors(store) if store is not None else []


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
    run in order on the worker; without them, a tracker that writes a store
    runs the default chain (`footfall.processors.defaults`) with that store's
    shared state, and one that only sends events on runs none (`[]` turns the
    default off). `site` and `source` are defaults for events
    that do not name their own; `subject` fills user fields. `batch_size`
    defaults to DEFAULT_BATCH_SIZE, or to the sinks' common
    `preferred_batch_size` when every sink has one (ClickHouse stores).
    """

    def __init__(
        self,
        sinks: Iterable[Sink | Any] = (),
        processors: Sequence[Processor] | None = None,
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
        sink_list = [_as_sink(s) for s in sinks]
        self.dispatcher = Dispatcher(
            sink_list,
            _default_chain(sink_list) if processors is None else processors,
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
        diverted = _diverted
        (self.worker if diverted is None else diverted).submit(event)
        return event

    def send(self, event: Event) -> bool:
        """Queue an already-built event (from middleware or the collector)."""
        diverted = _diverted
        return (self.worker if diverted is None else diverted).submit(event)

    def defer(self, item: Deferred) -> bool:
        """Queue an item the worker turns into an event with `item.to_event()`.

        The web integrations queue the raw values of a request this way, so
        building the `Event` (id, timestamp, limits) runs on the worker thread
        instead of the request path. Processors and sinks see only events.
        """
        diverted = _diverted
        return (self.worker if diverted is None else diverted).submit(item)

    # -- lifecycle ----------------------------------------------------------
    def warm(self) -> None:
        """Load the processors' rules and databases now instead of in the first batch.

        Call it where a pre-forking server loads the app (gunicorn
        `--preload`), so the workers share what was loaded; see
        `footfall.processors.warm`.
        """
        warm(self.processors)

    def flush(self, timeout: float | None = None) -> bool:
        """Block until everything emitted so far reached the sinks (or timeout).

        False when `timeout` runs out first, including while a sink only holds
        events for later (`HttpSink`'s spool, sent once its collector is back):
        held is not delivered. Without a timeout that wait has no end.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self.worker.flush(timeout):
            return False
        for sink in self.sinks:
            drain = getattr(sink, "drain", None)  # a sink that can hold events for later
            if drain is not None:
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                if not drain(left):
                    return False
        return True

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
        """Counters: enqueued, delivered, dropped, failed, retried, spooled, ..."""
        c = self.dispatcher.counters
        # A sink that spooled events took them from the dispatcher's point of
        # view; they count as delivered only once replayed (HttpSink).
        held = refused = 0
        for sink in self.sinks:
            held += getattr(sink, "held_events", 0)
            refused += getattr(sink, "rejected_events", 0)
        return DeliveryStats(
            enqueued=self.worker.enqueued,
            delivered=max(0, c.delivered - held - refused),
            dropped=self.worker.dropped,
            failed=c.failed + refused,
            retried=c.retried,
            filtered=c.filtered,
            invalid=self.invalid + c.invalid,
            pending=self.worker.pending,
            spooled=held,
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


# The queue every tracker hands its events to instead of its own, while a test
# captures them (`divert`), and the tracker it belongs to; None the rest of the time.
_diverted: BackgroundWorker | None = None
_diverted_to: Tracker | None = None


def divert(tracker: Tracker | None) -> Tracker | None:
    """Send what every tracker of this process queues to `tracker`'s queue instead.

    For test helpers (`footfall.testing`): the code under test keeps its own
    trackers (those of its middleware, built from store URLs, or made at
    import time), and none of its events reaches their processors or sinks,
    a real database among them; `tracker` gets them as they were built.
    `divert(None)` ends it. Returns the tracker diverted to before, so
    diversions nest.
    """
    global _diverted, _diverted_to
    previous = _diverted_to
    _diverted_to = tracker
    _diverted = tracker.worker if tracker is not None else None
    return previous


def iter_trackers() -> Iterator[Tracker]:
    return iter(list(_registry.values()))
