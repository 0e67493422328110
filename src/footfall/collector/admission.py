"""Admission control: hold ingest requests while the delivery queue is deep.

A collector that answers a saturated queue with 503s keeps its event loop
busy refusing work, and in one Python process that loop competes for the GIL
with the delivery thread that drains the queue: the refusals starve the very
thread that would make room (measured: 503-heavy runs stored about half as
much). Holding the request instead parks its coroutine in an
`asyncio.sleep`, the loop goes idle, the delivery thread runs, and the sender
sees ordinary backpressure: a slower answer, the same as a slow TCP peer.

The wait is bounded: after `wait` seconds the request goes on and a queue
that is still full refuses with 503, as before. The depth is read from the
worker in O(1) and polled every few milliseconds; nothing here blocks the
loop or does I/O.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

__all__ = ["DEFAULT_ADMIT_DEPTH", "DEFAULT_ADMIT_WAIT", "POLL_SECONDS", "Admission"]

DEFAULT_ADMIT_DEPTH = 10_000  # queued items above which new requests wait (10 worker batches)
DEFAULT_ADMIT_WAIT = 5.0  # seconds a request waits at most before it is let through
POLL_SECONDS = 0.005  # how often a waiting request looks at the queue again


class Admission:
    """Lets an ingest request through once a tracker's queue is at most `depth` deep.

    A tracker without a `worker` exposing an O(1) `depth` (a duck-typed test
    tracker) is never held; `wait <= 0` turns admission control off.
    """

    def __init__(self, depth: int = DEFAULT_ADMIT_DEPTH, wait: float = DEFAULT_ADMIT_WAIT) -> None:
        self.depth = depth
        self.wait = wait
        self.held = 0  # requests that had to wait
        self.timed_out = 0  # of those, let through with the queue still deep

    def ready(self, tracker: Any) -> bool:
        """True when a request for `tracker` may go on now."""
        worker = getattr(tracker, "worker", None)
        depth = getattr(worker, "depth", None)
        return self.wait <= 0 or depth is None or depth <= self.depth

    async def __call__(self, tracker: Any) -> None:
        """Wait (asynchronously, bounded by `wait` seconds) until the queue has room."""
        if self.ready(tracker):
            return
        self.held += 1
        deadline = time.monotonic() + self.wait
        while not self.ready(tracker):
            if time.monotonic() >= deadline:
                self.timed_out += 1
                return
            await asyncio.sleep(POLL_SECONDS)
