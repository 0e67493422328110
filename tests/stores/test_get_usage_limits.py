"""`get_usage(limit=N)` returns N rows however large N is, on every store (no silent cap)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from footfall.event import Event
from footfall.stores import Store

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
MANY = 10_050  # past the 10,000 rows the stores used to stop at


def _events(n: int) -> list[Event]:
    return [
        Event(name="pageview", ts=T0 + timedelta(seconds=i), site="a.com", path=f"/p{i}")
        for i in range(n)
    ]


def test_a_large_limit_is_honoured(store: Store) -> None:
    events = _events(MANY)
    for i in range(0, MANY, 5_000):
        store.write(events[i : i + 5_000])
    got = store.get_usage(limit=MANY + 10)
    assert len(got) == MANY
    assert got[0].path == f"/p{MANY - 1}" and got[-1].path == "/p0"  # newest first
    # Paging covers the rest of a range exactly once.
    first, second = store.get_usage(limit=6_000, page=1), store.get_usage(limit=6_000, page=2)
    assert len(first) == 6_000 and len(second) == MANY - 6_000
    assert {e.id for e in first}.isdisjoint(e.id for e in second)


@pytest.mark.parametrize(("limit", "page"), [(0, 1), (10, 0)])
def test_a_limit_or_page_below_one_is_an_error(store: Store, limit: int, page: int) -> None:
    with pytest.raises(ValueError, match=r"limit must be|page counts"):
        store.get_usage(limit=limit, page=page)
