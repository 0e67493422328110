"""Abuse controls on the request path: per-IP rate limit, page-view dedupe, client IP.

All in memory and O(1) per request. Each server process keeps its own
buckets, so with N workers an IP may reach N times the configured rate; that
is the usual trade for not putting a shared store on the hot path.
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
from collections.abc import Callable

__all__ = ["Deduper", "RateLimiter", "client_ip", "rate_key"]

MAX_TRACKED = 100_000  # keys kept before old ones are pruned (memory bound)


class RateLimiter:
    """A token bucket per key: `rate` tokens per second, at most `burst` saved up."""

    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last time)

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, key: str, cost: float = 1.0) -> float:
        """Spend `cost` tokens; return 0 if allowed, else seconds until it would be."""
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= cost:
            self._store(key, tokens - cost, now)
            return 0.0
        self._store(key, tokens, now)
        return (cost - tokens) / self.rate

    def _store(self, key: str, tokens: float, now: float) -> None:
        if len(self._buckets) >= MAX_TRACKED and key not in self._buckets:
            self._prune(now)
        self._buckets[key] = (tokens, now)

    def _prune(self, now: float) -> None:
        # A bucket that would be full again carries no information: drop it.
        full_after = self.burst / self.rate
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full_after}
        if len(self._buckets) >= MAX_TRACKED:
            self._buckets.clear()


class Deduper:
    """Remembers (site, visitor, url) of anonymous page views for `window` seconds."""

    def __init__(self, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self.clock = clock
        self._seen: dict[bytes, float] = {}

    def seen(self, *parts: str) -> bool:
        """True if the same parts were seen within the window (and remember them)."""
        if self.window <= 0:
            return False
        key = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).digest()
        now = self.clock()
        last = self._seen.get(key)
        if last is not None and now - last < self.window:
            return True
        if len(self._seen) >= MAX_TRACKED:
            self._seen = {k: t for k, t in self._seen.items() if now - t < self.window}
            if len(self._seen) >= MAX_TRACKED:
                self._seen.clear()
        self._seen[key] = now
        return False


def client_ip(peer: str | None, forwarded_for: str | None, trusted_proxies: int) -> str:
    """The client's address: the socket peer, or from X-Forwarded-For behind trusted proxies.

    With N trusted proxies, the Nth address from the right of X-Forwarded-For
    is the one the outermost trusted proxy saw; addresses further left are
    client-supplied and could be forged, so they are never used.
    """
    if trusted_proxies > 0 and forwarded_for:
        hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        if hops:
            ip = hops[-trusted_proxies] if len(hops) >= trusted_proxies else hops[0]
            return ip[:100]
    return peer or ""


def rate_key(ip: str) -> str:
    """The rate-limit bucket of an address: itself for IPv4, its /64 for IPv6.

    One IPv6 host typically has a whole /64 to pick addresses from, so a
    bucket per address would be no limit at all.
    """
    if ":" not in ip:
        return ip
    try:
        net = ipaddress.IPv6Network(f"{ip.split('%', 1)[0]}/64", strict=False)
    except ValueError:
        return ip
    return str(net.network_address)
