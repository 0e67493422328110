"""The background worker: a bounded queue drained in batches by a daemon thread.

The calling thread only appends to a deque (O(1), no lock, no I/O). A daemon
thread, started on first use and again after `fork`, wakes when a batch is
full or the flush interval (with jitter) has passed, and hands each batch to a
`process` callable. A full queue drops the new item and counts it: tracking
must never block or slow the host application.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

from footfall.delivery import shutdown

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_FLUSH_INTERVAL",
    "DEFAULT_QUEUE_SIZE",
    "FLUSH_JITTER",
    "BackgroundWorker",
]

DEFAULT_QUEUE_SIZE = 100_000  # items held before new ones are dropped
DEFAULT_BATCH_SIZE = 1_000  # items handed to `process` at once at most
DEFAULT_FLUSH_INTERVAL = 1.0  # seconds between timed flushes
FLUSH_JITTER = 0.1  # +/- fraction: workers started together do not write in lockstep

log = logging.getLogger("footfall.delivery")

_WORKERS: weakref.WeakSet[BackgroundWorker] = weakref.WeakSet()


class _Marker:
    """Queued behind the items a flush or close must wait for."""

    __slots__ = ("done", "stop")

    def __init__(self, stop: bool = False) -> None:
        self.done = threading.Event()
        self.stop = stop


class BackgroundWorker:
    """Batches submitted items and processes them on a daemon thread."""

    def __init__(
        self,
        process: Callable[[list[Any]], None],
        *,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        batch_size: int = DEFAULT_BATCH_SIZE,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        name: str = "footfall-worker",
    ) -> None:
        if queue_size < 1 or batch_size < 1 or flush_interval <= 0:
            raise ValueError("queue_size, batch_size and flush_interval must be positive")
        self._process = process
        self.queue_size = queue_size
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.name = name
        self._reset()
        _WORKERS.add(self)

    def _reset(self) -> None:
        self._queue: deque[Any] = deque()
        self._wake = threading.Event()
        self._start_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._pid = os.getpid()
        self._taken = 0  # items the thread has popped (single consumer: exact)
        self._markers = 0  # flush/stop markers in the queue, so counts need no walk
        self._in_flight = 0
        self.dropped = 0

    # -- calling thread -----------------------------------------------------
    def submit(self, item: Any) -> bool:
        """Queue `item`; return False (and count a drop) when full or closed."""
        if self._thread is None:
            self._start()
        queue = self._queue
        if len(queue) >= self.queue_size or self._closed:
            with self._count_lock:
                self.dropped += 1
            return False
        queue.append(item)
        if len(queue) == self.batch_size:
            self._wake.set()
        return True

    @property
    def depth(self) -> int:
        """Items (and flush markers) waiting in the queue: O(1), for admission checks."""
        return len(self._queue)

    @property
    def enqueued(self) -> int:
        """Items accepted so far (taken by the thread plus still queued); O(1).

        Read by `/health` and by the server's catch-up thread every second,
        so it must not walk a queue of 100,000 items. While a marker is being
        queued it may be one low for an instant.
        """
        return self._taken + max(0, len(self._queue) - self._markers)

    @property
    def pending(self) -> int:
        """Items accepted but not yet processed."""
        return self.enqueued - self._taken + self._in_flight

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything queued before this call is processed."""
        if self._thread is None or not self._thread.is_alive():
            if not self._queue:
                return True
            self._start()
        marker = _Marker()
        self._put_marker(marker)
        self._wake.set()
        return marker.done.wait(timeout)

    def close(self, timeout: float | None = 5.0) -> int:
        """Flush within `timeout`, stop the thread; return items left unprocessed.

        `timeout` bounds the whole call (flush and join together). Items
        still queued when it runs out stay counted in `pending`; the thread
        goes on with them in the background (it is a daemon, so it does not
        hold up the exit of the process).
        """
        if self._closed:
            return self.pending
        deadline = None if timeout is None else time.monotonic() + timeout
        ok = self.flush(timeout)
        self._closed = True
        thread = self._thread
        if thread is not None and thread.is_alive():
            marker = _Marker(stop=True)
            self._put_marker(marker)
            self._wake.set()
            if ok:
                thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return self.pending

    def _put_marker(self, marker: _Marker) -> None:
        with self._count_lock:
            self._markers += 1
        self._queue.append(marker)

    # -- worker thread ------------------------------------------------------
    def _start(self) -> None:
        with self._start_lock:
            if self._thread is not None and self._thread.is_alive():
                return
            shutdown.install(live_workers)
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    def _interval(self) -> float:
        return self.flush_interval * random.uniform(1 - FLUSH_JITTER, 1 + FLUSH_JITTER)

    def _run(self) -> None:
        while True:
            self._wake.wait(self._interval())
            self._wake.clear()
            if self._drain():
                return

    def _drain(self) -> bool:
        """Process everything queued; return True when a stop marker was seen."""
        queue = self._queue
        batch: list[Any] = []
        while queue:
            item = queue.popleft()
            if isinstance(item, _Marker):
                with self._count_lock:
                    self._markers -= 1
                self._handle(batch)
                batch = []
                item.done.set()
                if item.stop:
                    return True
                continue
            self._taken += 1
            batch.append(item)
            if len(batch) >= self.batch_size:
                self._handle(batch)
                batch = []
        self._handle(batch)
        return False

    def _handle(self, batch: list[Any]) -> None:
        if not batch:
            return
        self._in_flight = len(batch)
        try:
            self._process(batch)
        except Exception:
            # A failing job is logged and never kills the thread.
            log.exception("footfall: batch of %d items failed in the worker", len(batch))
        finally:
            self._in_flight = 0

    def _after_fork_in_child(self) -> None:
        # The parent still owns (and will deliver) what it had queued; the child
        # starts empty and spawns its own thread on its first submit.
        self._reset()


def _after_fork() -> None:
    for worker in list(_WORKERS):
        worker._after_fork_in_child()


def live_workers() -> list[BackgroundWorker]:
    """Workers of this process that are still open."""
    return [w for w in list(_WORKERS) if not w._closed]


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def wait_until(predicate: Callable[[], bool], timeout: float, step: float = 0.01) -> bool:
    """Poll `predicate` until true or `timeout` seconds pass (a test helper)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
