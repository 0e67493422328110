"""The login limiter's budgets: how many login attempts a client may make, and when.

Two budgets are charged for every login attempt, both before the password
is checked:

- per client and user name: `PER_USER` attempts, then one more every
  `WINDOW / PER_USER` seconds (10, then one every 30 s);
- per client, whatever the name: `PER_CLIENT` attempts, then one every
  `WINDOW / PER_CLIENT` seconds, so one client cannot spray names instead.

The client is `footfall.clientip.client_key` of the proxy-aware client
address (the /64 for IPv6). Charging first is what makes the limit hold:
concurrent attempts each take a slot before any of them is verified, so a
burst of N attempts reaches the password check at most `PER_USER` times. A
correct password gives its slot back.

Each budget is a GCRA bucket (one float per key: the time at which it is
full again), kept in an LRU table of at most `MAX_KEYS` keys. When the table
is full the least recently seen key goes first - the one whose bucket is
nearest to full again - instead of all history at once.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["MAX_KEYS", "PER_CLIENT", "PER_USER", "WINDOW", "Charge", "LoginThrottle"]

PER_USER = 10
PER_CLIENT = 30
WINDOW = 300.0
MAX_KEYS = 50_000  # about 300 bytes each: 15 MB at most


@dataclass(frozen=True)
class Charge:
    """The slots one attempt took (to give back after a correct password)."""

    keys: tuple[tuple[str, float], ...]  # (key, seconds that key's slot is worth)


class _Buckets:
    """GCRA buckets per key in a bounded LRU table."""

    def __init__(self, max_keys: int) -> None:
        self.max_keys = max_keys
        self._full_at: OrderedDict[str, float] = OrderedDict()

    def wait(self, key: str, interval: float, limit: int, now: float) -> float:
        """Seconds until `key` has a slot (0: it has one now); marks `key` as recent.

        A refused attempt counts as recent too, so a client that keeps trying
        while blocked is the last to be forgotten.
        """
        full_at = self._full_at.get(key)
        if full_at is None:
            return 0.0
        self._full_at.move_to_end(key)
        return max(0.0, max(full_at, now) + interval - now - interval * limit)

    def take(self, key: str, interval: float, now: float) -> None:
        full_at = max(self._full_at.pop(key, now), now)
        self._full_at[key] = full_at + interval  # (re)inserted last: most recent
        while len(self._full_at) > self.max_keys:
            self._full_at.popitem(last=False)

    def give_back(self, key: str, interval: float) -> None:
        if key in self._full_at:
            self._full_at[key] -= interval

    def __len__(self) -> int:
        return len(self._full_at)


class LoginThrottle:
    """Login budgets per client and user name, and per client (see the module doc).

    Not thread-safe: one instance belongs to one event loop, whose handlers
    call it without awaiting in between, so check-and-charge is atomic.
    """

    def __init__(
        self,
        per_user: int = PER_USER,
        per_client: int = PER_CLIENT,
        window: float = WINDOW,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_user < 1 or per_client < 1 or window <= 0 or max_keys < 2:
            raise ValueError("login limits must be positive")
        self.per_user = per_user
        self.per_client = per_client
        self.window = window
        self.clock = clock
        self._buckets = _Buckets(max_keys)

    def _keys(self, client: str, name: str) -> tuple[tuple[str, float, int], ...]:
        return (
            (f"c\x00{client}", self.window / self.per_client, self.per_client),
            (f"u\x00{client}\x00{name}", self.window / self.per_user, self.per_user),
        )

    def charge(self, client: str, name: str) -> Charge | float:
        """Take a slot from both budgets, or say how many seconds until there is one."""
        now = self.clock()
        keys = self._keys(client, name)
        wait = max(self._buckets.wait(key, interval, limit, now) for key, interval, limit in keys)
        if wait > 0:
            return wait
        for key, interval, _ in keys:
            self._buckets.take(key, interval, now)
        return Charge(tuple((key, interval) for key, interval, _ in keys))

    def refund(self, charge: Charge) -> None:
        """Give back an attempt's slots (the password was right)."""
        for key, interval in charge.keys:
            self._buckets.give_back(key, interval)

    @property
    def tracked(self) -> int:
        """How many keys the table holds now."""
        return len(self._buckets)
