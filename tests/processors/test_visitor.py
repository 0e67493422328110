"""Cookieless visitor ids: stable within a day, new after the salt rotates."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from footfall import connect
from footfall.event import Event
from footfall.processors.state import MemoryState, SQLiteState, state_for
from footfall.processors.visitor import VisitorIdProcessor

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"


class Clock:
    """A settable UTC clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def visitor(proc: VisitorIdProcessor, clock: Clock, **fields: str) -> str:
    fields.setdefault("ip", "81.2.69.142")
    fields.setdefault("user_agent", UA)
    fields.setdefault("site", "example.com")
    return proc(Event(name="pageview", ts=clock.now, **fields)).visitor_id


@pytest.fixture
def store(db_path: Path) -> Iterator[Any]:
    s = connect(f"sqlite:///{db_path}")
    yield s
    s.close()


def test_state_for_sqlite_store_is_shared_state(store) -> None:
    assert isinstance(state_for(store), SQLiteState)
    assert isinstance(state_for(None), MemoryState)


def test_stable_within_a_day_and_new_after_rotation(store) -> None:
    clock = Clock(datetime(2026, 3, 1, 0, 5, tzinfo=timezone.utc))
    proc = VisitorIdProcessor(state_for(store), clock=clock)
    first = visitor(proc, clock)
    assert len(first) == 32
    clock.now += timedelta(hours=23, minutes=50)  # 23:55 the same day
    assert visitor(proc, clock) == first
    clock.now += timedelta(minutes=10)  # past midnight UTC: a new salt
    assert visitor(proc, clock) != first


def test_inputs_change_the_id_and_are_not_in_it(store) -> None:
    clock = Clock(datetime(2026, 3, 1, 12, tzinfo=timezone.utc))
    proc = VisitorIdProcessor(state_for(store), clock=clock)
    base = visitor(proc, clock)
    assert visitor(proc, clock, ip="81.2.69.143") != base
    assert visitor(proc, clock, user_agent=UA + " extra") != base
    assert visitor(proc, clock, site="other.example") != base
    assert "81.2.69" not in base
    rows = store.query("SELECT * FROM visitor_salts")
    assert all("81.2.69" not in str(r) and "Firefox" not in str(r) for r in rows)


def test_given_visitor_id_and_anonymous_events_are_left_alone(store) -> None:
    clock = Clock(datetime(2026, 3, 1, 12, tzinfo=timezone.utc))
    proc = VisitorIdProcessor(state_for(store), clock=clock)
    assert visitor(proc, clock, visitor_id="cookie-123") == "cookie-123"
    assert visitor(proc, clock, ip="", user_agent="") == ""


def test_old_salts_are_deleted(store) -> None:
    clock = Clock(datetime(2026, 3, 1, 12, tzinfo=timezone.utc))
    proc = VisitorIdProcessor(state_for(store), clock=clock)
    for _ in range(4):
        visitor(proc, clock)
        clock.now += timedelta(days=1)
    visitor(proc, clock)  # 2026-03-05
    days = [r[0] for r in store.query("SELECT day FROM visitor_salts ORDER BY day")]
    assert days == ["2026-03-04", "2026-03-05"]


def test_event_day_picks_the_salt_while_it_is_kept(store) -> None:
    clock = Clock(datetime(2026, 3, 2, 0, 10, tzinfo=timezone.utc))
    proc = VisitorIdProcessor(state_for(store), clock=clock)
    late = Event(
        name="pageview", ts=clock.now - timedelta(minutes=20), ip="81.2.69.142", user_agent=UA
    )
    before_midnight = proc(late).visitor_id
    # The same visitor's event yesterday at 23:50, processed yesterday, agrees.
    clock_y = Clock(datetime(2026, 3, 1, 23, 50, tzinfo=timezone.utc))
    proc_y = VisitorIdProcessor(state_for(store), clock=clock_y)
    assert visitor(proc_y, clock_y, site="") == before_midnight
    # Events older than the kept salts use today's.
    old = Event(name="pageview", ts=clock.now - timedelta(days=5), ip="81.2.69.142", user_agent=UA)
    assert proc(old).visitor_id == visitor(proc, clock, site="")


def test_two_stores_on_one_file_agree(db_path: Path) -> None:
    """Two connections (as two processes would have) share the day's salt."""
    a, b = connect(f"sqlite:///{db_path}"), connect(f"sqlite:///{db_path}")
    clock = Clock(datetime(2026, 3, 1, 12, tzinfo=timezone.utc))
    try:
        va = visitor(VisitorIdProcessor(state_for(a), clock=clock), clock)
        vb = visitor(VisitorIdProcessor(state_for(b), clock=clock), clock)
        assert va == vb
    finally:
        a.close()
        b.close()


def test_memory_state_differs_between_instances() -> None:
    """Without a shared store each process would salt differently (why the store matters)."""
    clock = Clock(datetime(2026, 3, 1, 12, tzinfo=timezone.utc))
    one = visitor(VisitorIdProcessor(MemoryState(), clock=clock), clock)
    two = visitor(VisitorIdProcessor(MemoryState(), clock=clock), clock)
    assert one != two


def test_batch_gives_the_same_ids_as_one_by_one() -> None:
    clock = Clock(datetime(2026, 3, 2, 0, 10, tzinfo=timezone.utc))
    state = MemoryState()
    one, batch = (VisitorIdProcessor(state, clock=clock) for _ in range(2))
    late = clock.now - timedelta(minutes=20)  # yesterday: yesterday's salt
    specs = [
        {"ip": "81.2.69.142", "ts": clock.now},
        {"ip": "81.2.69.143", "ts": clock.now},
        {"ip": "81.2.69.142", "ts": clock.now},  # same visitor again
        {"ip": "81.2.69.142", "ts": late},
        {"ip": "", "user_agent": "", "ts": clock.now},  # nothing to hash
        {"ip": "81.2.69.142", "ts": clock.now, "visitor_id": "cookie-key"},  # kept
    ]

    def make() -> list[Event]:
        return [
            Event(name="pageview", site="example.com", **{"user_agent": UA, **s}) for s in specs
        ]

    expected = [one(e).visitor_id for e in make()]
    got = [e.visitor_id for e in batch.process_batch(make())]
    assert got == expected
    assert got[0] == got[2] != got[1]
    assert got[3] not in (got[0], "")  # another day's salt
    assert got[4] == "" and got[5] == "cookie-key"


def test_a_user_id_alone_is_that_users_visitor_hashed_per_site_and_day(store) -> None:
    """Server-side events (no IP, no user agent) with a user id count as that user."""
    clock = Clock(datetime(2026, 3, 1, 12, tzinfo=timezone.utc))
    proc = VisitorIdProcessor(state_for(store), clock=clock)
    alice = visitor(proc, clock, ip="", user_agent="", user_id="alice")
    assert len(alice) == 32 and "alice" not in alice
    assert visitor(proc, clock, ip="", user_agent="", user_id="alice") == alice
    assert visitor(proc, clock, ip="", user_agent="", user_id="bob") != alice
    assert visitor(proc, clock, ip="", user_agent="", user_id="alice", site="b.example") != alice
    clock.now += timedelta(days=1)  # the next day's salt, as for cookieless visitors
    assert visitor(proc, clock, ip="", user_agent="", user_id="alice") != alice


def test_the_request_wins_over_the_user_id(store) -> None:
    """An event with the request's IP and agent is the request's visitor, user id or not,
    so a visitor who logs in mid-visit stays one visitor."""
    clock = Clock(datetime(2026, 3, 1, 12, tzinfo=timezone.utc))
    proc = VisitorIdProcessor(state_for(store), clock=clock)
    anonymous = visitor(proc, clock)
    assert visitor(proc, clock, user_id="alice") == anonymous
    assert visitor(proc, clock, ip="", user_agent="", user_id="alice") != anonymous


def test_without_cookieless_ids_only_user_ids_are_hashed(store) -> None:
    clock = Clock(datetime(2026, 3, 1, 12, tzinfo=timezone.utc))
    proc = VisitorIdProcessor(state_for(store), cookieless=False, clock=clock)
    assert visitor(proc, clock) == ""
    assert len(visitor(proc, clock, user_id="alice")) == 32


def test_batch_hashes_user_ids_as_one_by_one() -> None:
    clock = Clock(datetime(2026, 3, 1, 12, tzinfo=timezone.utc))
    state = MemoryState()
    one, batch = (VisitorIdProcessor(state, clock=clock) for _ in range(2))
    specs = [{"user_id": "alice"}, {"user_id": "bob"}, {"user_id": "alice"}, {}]

    def make() -> list[Event]:
        return [Event(name="shop.checkout", ts=clock.now, site="example.com", **s) for s in specs]

    expected = [one(e).visitor_id for e in make()]
    got = [e.visitor_id for e in batch.process_batch(make())]
    assert got == expected and got[0] == got[2] != got[1] and got[3] == ""
