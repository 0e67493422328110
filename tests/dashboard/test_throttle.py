"""LoginThrottle: budgets per client and user, per client, refunds and a bounded table."""

from __future__ import annotations

import pytest

from footfall.dashboard.throttle import Charge, LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _spend(throttle: LoginThrottle, client: str, name: str, times: int) -> None:
    for _ in range(times):
        assert isinstance(throttle.charge(client, name), Charge)


def test_ten_attempts_then_one_per_thirty_seconds() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    _spend(throttle, "203.0.113.1", "alice", 10)
    wait = throttle.charge("203.0.113.1", "alice")
    assert wait == pytest.approx(30.0)
    clock.now += 29.0
    assert isinstance(throttle.charge("203.0.113.1", "alice"), float)
    clock.now += 1.0
    assert isinstance(throttle.charge("203.0.113.1", "alice"), Charge)
    assert isinstance(throttle.charge("203.0.113.1", "alice"), float)
    clock.now += 300.0  # a quiet window: the whole budget is back
    _spend(throttle, "203.0.113.1", "alice", 10)


def test_one_client_cannot_spray_user_names() -> None:
    throttle = LoginThrottle(clock=Clock())
    for i in range(30):
        assert isinstance(throttle.charge("203.0.113.2", f"user{i}"), Charge)
    assert isinstance(throttle.charge("203.0.113.2", "someone-else"), float)
    assert isinstance(throttle.charge("203.0.113.3", "user0"), Charge)


def test_a_right_password_gives_its_slot_back() -> None:
    throttle = LoginThrottle(clock=Clock())
    _spend(throttle, "203.0.113.4", "alice", 9)
    charge = throttle.charge("203.0.113.4", "alice")
    assert isinstance(charge, Charge)
    throttle.refund(charge)
    assert isinstance(throttle.charge("203.0.113.4", "alice"), Charge)
    assert isinstance(throttle.charge("203.0.113.4", "alice"), float)


def test_a_full_table_forgets_the_least_recent_keys_not_all() -> None:
    """Past `max_keys`, one-off clients from long ago go; a blocked client stays blocked."""
    clock = Clock()
    throttle = LoginThrottle(max_keys=100, clock=clock)
    for i in range(40):  # 80 keys: one per client, one per client and name
        clock.now += 0.1
        _spend(throttle, f"198.51.100.{i}", "alice", 1)
    clock.now += 1.0
    _spend(throttle, "203.0.113.66", "alice", 10)
    assert isinstance(throttle.charge("203.0.113.66", "alice"), float)
    for i in range(40):  # 80 more keys: the table overflows
        clock.now += 0.1
        _spend(throttle, f"192.0.2.{i}", "alice", 1)
    assert throttle.tracked <= 100
    assert isinstance(throttle.charge("203.0.113.66", "alice"), float)
    for i in range(49):  # still trying while blocked keeps it among the recent ones
        clock.now += 0.1
        _spend(throttle, f"192.0.2.{100 + i}", "alice", 1)
        assert isinstance(throttle.charge("203.0.113.66", "alice"), float)
    # The oldest one-off clients were forgotten: their budget is whole again.
    _spend(throttle, "198.51.100.0", "alice", 10)


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        LoginThrottle(per_user=0)
