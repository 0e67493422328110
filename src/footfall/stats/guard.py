"""Stats requests off the event loop, a few at a time, each within a time budget.

A stats request runs in a worker thread (never on the event loop that
answers `/health` and ingestion), inside `time_budget(timeout)` so every
store stops its queries at the deadline (`footfall.stores.budget`). At most
`concurrency` run at once, on threads of their own with a lower CPU priority,
so slow queries can neither take every thread of the server nor every
database connection, nor the CPU the event loop needs; a request beyond that
waits up to `queue_seconds` for its turn, and then - or at once when too many
already wait - is refused with `Busy` (503 with `Retry-After`).

Settings, read once per server process from the environment:

- `FOOTFALL_STATS_TIMEOUT` (`10`): seconds one stats request may spend in the
  store; `0` turns the limit off.
- `FOOTFALL_STATS_CONCURRENCY` (`4`): stats requests running at once.
- `FOOTFALL_STATS_QUEUE_SECONDS` (`5`): how long a request waits for its turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
from starlette.responses import JSONResponse

from footfall import settings
from footfall.errors import FootfallError
from footfall.stats.summaries.catchup import CatchingUp
from footfall.stores.budget import QueryTimeout, time_budget

__all__ = ["Busy", "QueryGuard", "StatsLimits", "guard_for", "overload_response"]

T = TypeVar("T")

DEFAULT_TIMEOUT = settings.STATS_TIMEOUT.default  # seconds
DEFAULT_CONCURRENCY = settings.STATS_CONCURRENCY.default
DEFAULT_QUEUE_SECONDS = settings.STATS_QUEUE_SECONDS.default
WAITING_PER_SLOT = 16  # beyond concurrency x this many waiting, refuse at once
RETRY_AFTER = 2  # seconds: what a refused client is told to wait
NICE = 10  # how much lower the stats threads' CPU priority is (Linux)


class Busy(FootfallError):
    """Every stats slot stayed taken: answer 503 with Retry-After."""

    def __init__(self, limits: StatsLimits) -> None:
        super().__init__(
            f"too many stats queries are running ({limits.concurrency} at once,"
            " FOOTFALL_STATS_CONCURRENCY); retry shortly"
        )
        self.retry_after = RETRY_AFTER


@dataclass(frozen=True)
class StatsLimits:
    """What the stats API allows; see the module docstring for the env names."""

    timeout: float = DEFAULT_TIMEOUT  # 0: no limit
    concurrency: int = DEFAULT_CONCURRENCY
    queue_seconds: float = DEFAULT_QUEUE_SECONDS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> StatsLimits:
        return cls(
            timeout=settings.STATS_TIMEOUT(env),
            concurrency=settings.STATS_CONCURRENCY(env),
            queue_seconds=settings.STATS_QUEUE_SECONDS(env),
        )


def _within_budget(seconds: float, fn: Callable[..., T], *args: Any) -> T:
    # Set in the worker thread itself: the budget is a context variable.
    with time_budget(seconds):
        return fn(*args)


def _lower_priority() -> None:
    """Stats threads yield the CPU to the event loop and the delivery thread.

    On Linux a thread has its own nice value: raising it for these threads
    (they only ever run stats queries) keeps the CPU-bound SQLite work from
    crowding out `/health` and ingestion on a busy machine. Elsewhere: no-op.
    """
    if not sys.platform.startswith("linux"):
        return
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + NICE))
    except OSError:
        pass


class QueryGuard:
    """Admits stats requests to their own worker threads, `concurrency` at a time."""

    def __init__(self, limits: StatsLimits | None = None) -> None:
        self.limits = limits or StatsLimits()
        self.running = 0
        self.waiting = 0
        # Made on first use, inside the event loop (older anyio needs one).
        self._slots: anyio.CapacityLimiter | None = None
        # Threads of their own, at a lower priority: the server's shared pool stays
        # free for /health, the dashboard and the collector whatever the stats do.
        self._pool = ThreadPoolExecutor(
            self.limits.concurrency, "footfall-stats", initializer=_lower_priority
        )

    def snapshot(self) -> dict[str, int]:
        """Stats requests running and waiting now (for /health)."""
        return {"running": self.running, "waiting": self.waiting}

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in a worker thread within the time budget; Busy if no turn came."""
        if self._slots is None:
            self._slots = anyio.CapacityLimiter(self.limits.concurrency)
        slots, ticket = self._slots, object()
        try:
            slots.acquire_on_behalf_of_nowait(ticket)
        except anyio.WouldBlock:
            await self._wait_for(slots, ticket)
        loop = asyncio.get_running_loop()
        self.running += 1
        try:
            future = self._pool.submit(_within_budget, self.limits.timeout, fn, *args)
        except BaseException:
            self._finished(slots, ticket)
            raise

        def finished(_: Future[T]) -> None:
            # The slot is freed when the thread is done, not when the request
            # gives up waiting: a cancelled request cannot start another query.
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self._finished, slots, ticket)

        future.add_done_callback(finished)
        return await asyncio.wrap_future(future)

    def _finished(self, slots: anyio.CapacityLimiter, ticket: object) -> None:
        self.running -= 1
        slots.release_on_behalf_of(ticket)

    async def _wait_for(self, slots: anyio.CapacityLimiter, ticket: object) -> None:
        if self.waiting >= self.limits.concurrency * WAITING_PER_SLOT:
            raise Busy(self.limits)
        self.waiting += 1
        try:
            with anyio.move_on_after(self.limits.queue_seconds) as scope:
                await slots.acquire_on_behalf_of(ticket)
        finally:
            self.waiting -= 1
        if scope.cancelled_caught:
            raise Busy(self.limits)


def guard_for(extras: dict[str, Any]) -> QueryGuard:
    """The server process's guard, kept in its `ServerState.extras`; /health reports it."""
    found = extras.get(__name__)
    if not isinstance(found, QueryGuard):
        found = extras[__name__] = QueryGuard(StatsLimits.from_env())
        extras.setdefault("health", {})["stats_queries"] = found.snapshot
    return found


def overload_response(exc: QueryTimeout | Busy | CatchingUp) -> JSONResponse:
    """503 with the reason, in the stats API's error shape (a query over budget, no
    slot, or summaries still folding a backlog)."""
    headers = {"Cache-Control": "no-store"}
    if isinstance(exc, Busy | CatchingUp):
        headers["Retry-After"] = str(exc.retry_after)
        message = str(exc)
    else:
        message = (
            f"{exc} (FOOTFALL_STATS_TIMEOUT) and was stopped; narrow the period or the filters"
        )
    return JSONResponse({"error": message}, status_code=503, headers=headers)
