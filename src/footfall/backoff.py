"""One retry delay for every retry loop: exponential, capped, jittered.

Several loops wait before trying again something that is down: the
dispatcher retrying a sink, `footfall worker` retrying its store or Redis,
`HttpSink` retrying a collector, the Celery task retrying its store, the
SQLite store retrying a locked database. They share this one formula, each
with its own base and cap, so the policy (how fast it grows, where it stops,
how much it is spread) lives in one place. It sits below every layer and
imports nothing, so stores may use it as well as delivery.
"""

from __future__ import annotations

import random

__all__ = ["backoff_delay"]

_MAX_DOUBLINGS = 32  # 2**32 times any sane base is past any sane cap: no float overflow


def backoff_delay(attempt: int, *, base: float, cap: float, jitter: float = 0.5) -> float:
    """Seconds to wait before retry number `attempt` (0 for the first retry).

    The ceiling is `base * 2**attempt`, at most `cap`; the delay is the
    ceiling scaled by a random factor in `[1 - jitter, 1]`. The jitter
    spreads the retries of processes that failed together (every collector
    sees the same store restart), and keeping at least half of the ceiling by
    default avoids the near-zero waits of full jitter (`jitter=1`), which
    hammer a store that is still coming up.
    """
    ceiling = min(cap, base * 2.0 ** min(max(attempt, 0), _MAX_DOUBLINGS))
    return ceiling * random.uniform(1.0 - jitter, 1.0)
