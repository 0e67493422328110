"""Ids derived from the import secret, and the processor options that take them."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from footfall import Event
from footfall.importers.ids import ImportIds
from footfall.processors.state import MemoryState
from footfall.processors.visitor import VisitorIdProcessor
from footfall.processors.visits import VisitsProcessor

from .conftest import FIREFOX

NOW = datetime(2026, 12, 7, 12, tzinfo=timezone.utc)
OLD = datetime(2024, 5, 1, 10, tzinfo=timezone.utc)


def _event(ts: datetime, ip: str = "81.2.69.142") -> Event:
    return Event(name="pageview", site="shop.example", ts=ts, ip=ip, user_agent=FIREFOX)


def test_ids_are_uuid7_shaped_in_time_order_and_keyed() -> None:
    ids = ImportIds(b"k" * 32)
    first = ids.event_id("shop.example", "a line", 1_700_000_000_000)
    assert first == ids.event_id("shop.example", "a line", 1_700_000_000_000)
    assert first[14] == "7" and first[19] in "89ab" and len(first) == 36
    later = ids.event_id("shop.example", "a line", 1_700_000_000_001)
    assert later > first  # the time is in front
    assert ids.repeat_id(first, 1, 1_700_000_000_000) not in (first, ids.repeat_id(first, 2, 1))
    assert ImportIds(b"j" * 32).event_id("shop.example", "a line", 1_700_000_000_000) != first
    assert ids.day_salt(date(2024, 5, 1)) == ImportIds(b"k" * 32).day_salt(date(2024, 5, 1))
    assert ids.day_salt(date(2024, 5, 1)) != ids.day_salt(date(2024, 5, 2))


class CountingState(MemoryState):
    """Counts the salts asked of the store's state."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def salt(self, day: str) -> bytes:
        self.asked.append(day)
        return super().salt(day)


def test_derived_salts_give_old_days_their_own_salt_and_leave_the_state_alone() -> None:
    ids = ImportIds(b"k" * 32)
    state = CountingState()
    derived = VisitorIdProcessor(state, clock=lambda: NOW, salts=ids.day_salt)
    again = VisitorIdProcessor(MemoryState(), clock=lambda: NOW, salts=ids.day_salt)
    old = derived(_event(OLD)).visitor_id
    assert old == again(_event(OLD)).visitor_id  # no random salt in it
    assert derived(_event(OLD + timedelta(days=1))).visitor_id != old  # a day of its own
    assert state.asked == []
    # Live: an event older than the kept salts uses today's, created in the state.
    live = VisitorIdProcessor(state, clock=lambda: NOW)
    assert live(_event(OLD)).visitor_id != old
    assert state.asked == [NOW.date().isoformat()]


def test_derived_visit_ids_are_the_same_on_every_run() -> None:
    ids = ImportIds(b"k" * 32)

    def visits(mint: object) -> list[str]:
        step = VisitsProcessor(MemoryState(), visit_id=mint)  # type: ignore[arg-type]
        events = [_event(OLD + timedelta(minutes=m)) for m in (0, 10, 50, 55)]
        for e in events:
            e.visitor_id = "v1"
        return [e.visit_id for e in step.process_batch(events)]

    first = visits(ids.visit_id)
    assert first == visits(ids.visit_id)
    assert first[0] == first[1] != first[2] == first[3]  # 40 idle minutes end a visit
    # Live visits get random UUIDv7s.
    assert visits(None) != visits(None)
