"""Processors: small typed callables that enrich or drop events in the worker.

A processor takes an `Event` and returns it (changed or not), returns None to
drop it, or raises `footfall.DropEvent`. They run in the background worker,
never on the request path, in the order the tracker lists them.

A processor that needs the whole batch at once (visits: sort by time, one
store transaction per batch) also has a `process_batch(events) -> events`
method; `run_chain` then hands it every surviving event of the batch in one
call. Chains without such a processor run exactly as before, event by event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, runtime_checkable

from footfall.errors import DropEvent
from footfall.event import Event

__all__ = ["BatchProcessor", "Processor", "run_chain", "warm"]

Processor = Callable[[Event], "Event | None"]

log = logging.getLogger("footfall.processors")


@runtime_checkable
class BatchProcessor(Protocol):
    """A processor that also sees a whole batch at once.

    `__call__` must still work on one event (as a batch of one), so a batch
    processor can be used anywhere a plain processor is.
    """

    def __call__(self, event: Event, /) -> Event | None: ...

    def process_batch(self, events: list[Event], /) -> list[Event]: ...


def _is_batch(proc: object) -> bool:
    return callable(getattr(proc, "process_batch", None))


def run_chain(processors: Sequence[Processor], events: Iterable[Event]) -> list[Event]:
    """Run every event through the chain; return the survivors in order.

    A processor that fails with an unexpected exception is logged and skipped
    for that event: losing data to a bug in an enrichment step is worse than
    storing the event un-enriched. A batch processor (see `BatchProcessor`)
    gets all survivors of the steps before it in one call; if it fails, the
    batch goes on unchanged by that step.
    """
    if not processors:
        return list(events)
    if not any(_is_batch(p) for p in processors):
        return _run_events(processors, events)
    current = list(events)
    segment: list[Processor] = []
    for proc in processors:
        if not _is_batch(proc):
            segment.append(proc)
            continue
        if segment:
            current = _run_events(segment, current)
            segment = []
        if current:
            current = _run_batch(proc, current)
    return _run_events(segment, current) if segment else current


def _run_batch(proc: Processor, events: list[Event]) -> list[Event]:
    try:
        return list(proc.process_batch(events))  # type: ignore[attr-defined]
    except Exception:
        log.exception("footfall: batch processor %r failed; batch kept unprocessed", proc)
        return events


def _run_events(processors: Sequence[Processor], events: Iterable[Event]) -> list[Event]:
    out: list[Event] = []
    for event in events:
        current: Event | None = event
        for proc in processors:
            if current is None:
                break
            try:
                current = proc(current)
            except DropEvent:
                current = None
            except Exception:
                log.exception("footfall: processor %r failed; event kept unprocessed", proc)
                continue
        if current is not None:
            out.append(current)
    return out


def warm(processors: Iterable[Processor]) -> None:
    """Let each processor load what it would load on first use (rules, lists, databases).

    For servers that fork workers from a loaded app (gunicorn `--preload`):
    done once in the parent, the children share it and their first batch
    does not pay for it. Only processors with a `warm()` method take part;
    none of them touch shared state or a store, so nothing is inherited
    across the fork but read-only data. A failing step is logged.
    """
    for proc in processors:
        hook = getattr(proc, "warm", None)
        if callable(hook):
            try:
                hook()
            except Exception:
                log.exception("footfall: warming %r failed; it loads on first use", proc)
