"""Processors: small typed callables that enrich or drop events in the worker.

A processor takes an `Event` and returns it (changed or not), returns None to
drop it, or raises `footfall.DropEvent`. They run in the background worker,
never on the request path, in the order the tracker lists them.

A processor that needs the whole batch at once (visits: sort by time, one
store transaction per batch) also has a `process_batch(events) -> events`
method; `run_chain` then hands it every surviving event of the batch in one
call.

A processor that fails is one of two things. A bug (any exception) is
logged and the event goes on without that step: losing data to a bug in an
enrichment step is worse than storing the event un-enriched. Shared state
that cannot be reached (`StateUnavailable`: the store's database is down or
locked) stops the chain instead: `run_chain` raises `ChainInterrupted`,
whose `progress` says where, and the delivery worker retries from there
(`resume_chain`) so that no event is stored without its visitor and visit
ids because of an outage.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from footfall.errors import DropEvent, FootfallError, StateUnavailable
from footfall.event import Event

__all__ = [
    "BatchProcessor",
    "ChainInterrupted",
    "Processor",
    "Progress",
    "StateUnavailable",
    "resume_chain",
    "run_chain",
    "warm",
]

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


@dataclass
class Progress:
    """How far a chain got: processor `step` has run on `done`, not yet on `todo`.

    Every processor before `step` has run on both. A batch processor has
    either run on the whole batch or not at all, so then `done` is empty.
    """

    step: int
    done: list[Event]
    todo: list[Event]

    @property
    def size(self) -> int:
        """Events held at this point of the chain."""
        return len(self.done) + len(self.todo)


class ChainInterrupted(FootfallError):
    """A processor's shared state was unavailable; `progress` is where to resume.

    The `StateUnavailable` that stopped the chain is its `__cause__`.
    """

    def __init__(self, progress: Progress, processor: object) -> None:
        super().__init__(f"processor {processor!r} cannot reach its shared state")
        self.progress = progress
        self.processor = processor


class _Stopped(FootfallError):
    """Inside one step: how far it got when its state became unavailable."""

    def __init__(self, done: list[Event], todo: list[Event], cause: StateUnavailable) -> None:
        self.done, self.todo, self.cause = done, todo, cause


def run_chain(processors: Sequence[Processor], events: Iterable[Event]) -> list[Event]:
    """Run every event through the chain; return the survivors in order.

    A processor that fails with an unexpected exception is logged and skipped
    for that event (a batch processor: for the batch). One that raises
    `StateUnavailable` stops the chain with `ChainInterrupted`; pass its
    `progress` to `resume_chain` to go on once the state is back.
    """
    return resume_chain(processors, Progress(0, [], list(events)))


def resume_chain(
    processors: Sequence[Processor], progress: Progress, *, hold: bool = True
) -> list[Event]:
    """Run the chain on from `progress` (where `ChainInterrupted` stopped it).

    Each step runs on the whole batch before the next starts, so a stop falls
    between two events of one step and nothing runs twice on an event. With
    `hold=False` an unavailable state is treated like a bug: the step is
    logged and skipped, and the steps after it (privacy among them) still run.
    """
    done, events = progress.done, progress.todo
    for index in range(progress.step, len(processors)):
        if events:
            proc = processors[index]
            try:
                events = _step(proc, events, hold)
            except _Stopped as stop:
                where = Progress(index, done + stop.done, stop.todo)
                raise ChainInterrupted(where, proc) from stop.cause
        if done:
            events, done = done + events, []
        elif not events:
            break
    return done + events


def _step(proc: Processor, events: list[Event], hold: bool) -> list[Event]:
    """One processor over every event of the batch."""
    if _is_batch(proc):
        try:
            return list(proc.process_batch(events))  # type: ignore[attr-defined]
        except StateUnavailable as exc:
            if hold:
                raise _Stopped([], events, exc) from None
            log.error(
                "footfall: batch processor %r skipped for %d events: %s", proc, len(events), exc
            )
        except Exception:
            log.exception("footfall: batch processor %r failed; batch kept unprocessed", proc)
        return events
    out: list[Event] = []
    keep = out.append
    rest = iter(events)
    for event in rest:
        try:
            result = proc(event)
        except DropEvent:
            continue
        except StateUnavailable as exc:
            if hold:
                raise _Stopped(out, [event, *rest], exc) from None
            log.error("footfall: processor %r skipped for an event: %s", proc, exc)
            result = event
        except Exception:
            log.exception("footfall: processor %r failed; event kept unprocessed", proc)
            result = event
        if result is not None:
            keep(result)
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
