"""The one retry-delay formula: exponential from `base`, capped, jittered downwards."""

from __future__ import annotations

import pytest

from footfall.backoff import backoff_delay


@pytest.mark.parametrize("attempt", [0, 1, 2, 5])
def test_delay_lies_between_half_the_ceiling_and_the_ceiling(attempt: int) -> None:
    ceiling = 0.25 * 2**attempt
    for _ in range(200):
        delay = backoff_delay(attempt, base=0.25, cap=100.0)
        assert ceiling / 2 <= delay <= ceiling


def test_the_cap_bounds_every_delay_even_after_very_many_attempts() -> None:
    for attempt in (10, 100, 10_000):
        assert backoff_delay(attempt, base=0.2, cap=10.0) <= 10.0
    assert backoff_delay(10_000, base=1.0, cap=60.0, jitter=0) == 60.0


def test_no_jitter_gives_the_plain_doubling() -> None:
    assert [backoff_delay(n, base=1.0, cap=60.0, jitter=0) for n in range(8)] == [
        1.0,
        2.0,
        4.0,
        8.0,
        16.0,
        32.0,
        60.0,
        60.0,
    ]


def test_full_jitter_may_wait_anywhere_below_the_ceiling() -> None:
    delays = [backoff_delay(3, base=0.005, cap=0.5, jitter=1) for _ in range(500)]
    assert all(0.0 <= d <= 0.04 for d in delays)
    assert min(delays) < 0.02  # not held at half the ceiling


def test_a_negative_attempt_counts_as_the_first() -> None:
    assert backoff_delay(-3, base=2.0, cap=60.0, jitter=0) == 2.0
