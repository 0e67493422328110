"""Abuse controls on the request path: per-IP rate limit, page-view dedupe.

Which address a request came from, and its bucket (`rate_key`: the /64 for
IPv6), are `footfall.clientip`'s to decide.

All in memory and O(1) per request. Each server process keeps its own
buckets, so with N workers an IP may reach N times the configured rate; that
is the usual trade for not putting a shared store on the hot path.

Both tables hold at most `MAX_TRACKED` keys and, when full, let go of the
least recently seen one: a flood of new addresses pushes out keys that have
gone quiet, never the address being refused right now (emptying the table
instead would hand every refused client a fresh bucket).
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable

from footfall.clientip import client_key as rate_key

__all__ = ["Deduper", "RateLimiter", "rate_key"]

MAX_TRACKED = 100_000  # keys kept per table; beyond, the least recently seen goes


class RateLimiter:
    """A token bucket per key: `rate` tokens per second, at most `burst` saved up."""

    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        # key -> (tokens, last time), least recently seen first
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, key: str, cost: float = 1.0, *, paid: float = 0.0) -> float:
        """Spend `cost` tokens; return 0 if allowed, else seconds until it would be.

        A cost above `burst` could never be paid from the bucket, so a bucket
        that was full when the request came pays it and goes into debt: that
        key then waits until the whole cost has been earned back. A batch of
        N events costs N tokens either way, and is never refused for ever.
        `paid` is what the same request was already charged (a batch endpoint
        charges 1 before reading the body, the rest once it counted events).
        """
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= cost or tokens + paid >= self.burst:
            self._store(key, tokens - cost, now)
            return 0.0
        self._store(key, tokens, now)
        return (min(cost, self.burst - paid) - tokens) / self.rate

    def _store(self, key: str, tokens: float, now: float) -> None:
        buckets = self._buckets
        buckets[key] = (tokens, now)
        buckets.move_to_end(key)
        while len(buckets) > MAX_TRACKED:
            # The least recently seen key has had the longest to refill: the
            # one most likely to be full again, so to carry no information.
            buckets.popitem(last=False)


class Deduper:
    """Remembers (site, visitor, url) of anonymous page views for `window` seconds."""

    def __init__(self, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self.clock = clock
        self._seen: OrderedDict[bytes, float] = OrderedDict()  # oldest view first

    def seen(self, *parts: str) -> bool:
        """True if the same parts were seen within the window (and remember them)."""
        if self.window <= 0:
            return False
        key = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).digest()
        now = self.clock()
        seen = self._seen
        last = seen.get(key)
        if last is not None and now - last < self.window:
            return True
        seen[key] = now
        seen.move_to_end(key)
        while len(seen) > MAX_TRACKED:
            seen.popitem(last=False)  # the oldest view: expired, or the first to expire
        return False
