"""Admission control: hold ingest requests while the delivery queue is deep.

A collector that answers a saturated queue with 503s keeps its event loop
busy refusing work, and in one Python process that loop competes for the GIL
with the delivery thread that drains the queue: the refusals starve the very
thread that would make room (docs/decisions/0018-admission-control.md).
Holding the request instead parks its coroutine in an
`asyncio.sleep`, the loop goes idle, the delivery thread runs, and the sender
sees ordinary backpressure: a slower answer, the same as a slow TCP peer.

The wait is bounded: after `wait` seconds the request goes on and a queue
that is still full refuses with 503, as before, with `Retry-After:
RETRY_AFTER_SECONDS`. That is also what bounds the memory of a server whose
store or Redis is down: the collector's tracker holds what it accepted and
keeps retrying (footfall.server.state), the queue fills, new requests wait and
are then refused, and senders come back later. The depth is read from the
worker in O(1) by one poller task every few milliseconds, which wakes every
held request at once when there is room: with one poll loop per held
request, the wake-ups alone cost a share of the stored rate. Nothing
here blocks the loop or does I/O.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from footfall import settings

__all__ = [
    "DEFAULT_ADMIT_DEPTH",
    "DEFAULT_ADMIT_WAIT",
    "POLL_SECONDS",
    "RETRY_AFTER_SECONDS",
    "Admission",
]

# Queued items above which new requests wait: 10,000 (10 worker batches).
DEFAULT_ADMIT_DEPTH = settings.ADMIT_DEPTH.default
# Seconds a request waits at most before it is let through: 5.
DEFAULT_ADMIT_WAIT = settings.ADMIT_WAIT.default
POLL_SECONDS = 0.005  # how often a waiting request looks at the queue again
RETRY_AFTER_SECONDS = 5  # Retry-After of a 503 "queue full": about one admission wait


class Admission:
    """Lets an ingest request through once a tracker's queue is at most `depth` deep.

    A tracker without a `worker` exposing an O(1) `depth` (a duck-typed test
    tracker) is never held; `wait <= 0` turns admission control off. One
    instance serves one event loop (one per server process).
    """

    def __init__(self, depth: int = DEFAULT_ADMIT_DEPTH, wait: float = DEFAULT_ADMIT_WAIT) -> None:
        self.depth = depth
        self.wait = wait
        self.held = 0  # requests that had to wait
        self.timed_out = 0  # of those, let through with the queue still deep
        self._room: asyncio.Event | None = None  # set by the poller when there is room
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop `_room` belongs to
        self._poller: asyncio.Task[None] | None = None

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
        loop = asyncio.get_running_loop()
        room = self._room
        if room is None or self._loop is not loop:  # none yet, or left by a closed loop
            room, self._loop = asyncio.Event(), loop
            self._room = room
            # Keep a reference: the loop holds tasks weakly, a collected poller never wakes anyone.
            self._poller = loop.create_task(self._poll(tracker, room))
        try:
            await asyncio.wait_for(room.wait(), self.wait)
        except asyncio.TimeoutError:
            pass
        if not self.ready(tracker):
            self.timed_out += 1

    async def _poll(self, tracker: Any, room: asyncio.Event) -> None:
        """Look at the queue until it has room (or the longest wait is over), then wake all."""
        deadline = time.monotonic() + self.wait
        try:
            while not self.ready(tracker) and time.monotonic() < deadline:
                await asyncio.sleep(POLL_SECONDS)
        finally:
            if self._room is room:
                self._room = None  # the next held request starts a new round
            room.set()
