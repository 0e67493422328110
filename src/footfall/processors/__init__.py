"""Processors: small typed callables that enrich or drop events in the worker.

A processor takes an `Event` and returns it (changed or not), returns None to
drop it, or raises `footfall.DropEvent`. They run in the background worker,
never on the request path, in the order the tracker lists them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence

from footfall.errors import DropEvent
from footfall.event import Event

__all__ = ["Processor", "run_chain"]

Processor = Callable[[Event], "Event | None"]

log = logging.getLogger("footfall.processors")


def run_chain(processors: Sequence[Processor], events: Iterable[Event]) -> list[Event]:
    """Run every event through the chain; return the survivors in order.

    A processor that fails with an unexpected exception is logged and skipped
    for that event: losing data to a bug in an enrichment step is worse than
    storing the event un-enriched.
    """
    if not processors:
        return list(events)
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
