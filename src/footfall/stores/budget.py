"""A time budget for read queries: the caller sets it, every store enforces it.

The stats API answers each request inside `time_budget(seconds)`. A store's
`query()` asks `current()` and hands the rest of the budget to its database,
which stops the query there: SQLite through a progress handler, PostgreSQL
through `statement_timeout`, ClickHouse through `max_execution_time`. The
store then raises `QueryTimeout` (never its driver's own error), so the API
can answer a clear 503 instead of a 500, or instead of running on.

The budget lives in a context variable, so it follows the request into the
worker thread that runs it (set it inside that thread) and never leaks into
other requests or into the background writers.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from footfall.errors import FootfallError

__all__ = ["Budget", "QueryTimeout", "current", "time_budget"]


class QueryTimeout(FootfallError):
    """A read query ran out of its time budget and was stopped by the database."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the query ran longer than its {seconds:g} s time budget")
        self.seconds = seconds


@dataclass(frozen=True)
class Budget:
    """Until when (time.monotonic) the queries of the current request may run."""

    seconds: float
    deadline: float

    def left(self) -> float:
        """Seconds left; QueryTimeout when none are (no query should start then)."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self.exceeded()
        return left

    def exceeded(self) -> QueryTimeout:
        return QueryTimeout(self.seconds)


_budget: ContextVar[Budget | None] = ContextVar("footfall_query_budget", default=None)


def current() -> Budget | None:
    """The budget the queries of this context run under, or None (no limit)."""
    return _budget.get()


@contextmanager
def time_budget(seconds: float | None) -> Iterator[Budget | None]:
    """Run the enclosed queries within `seconds` in all (None or <= 0: no limit)."""
    if not seconds or seconds <= 0:
        yield None
        return
    budget = Budget(seconds, time.monotonic() + seconds)
    token = _budget.set(budget)
    try:
        yield budget
    finally:
        _budget.reset(token)
