"""The Store contract, run unchanged against every backend."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from footfall import Event
from footfall.stores import EventFilter, Store

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=timezone.utc)


def _events(n: int, **fields: object) -> list[Event]:
    return [
        Event(name="pageview", ts=T0 + timedelta(minutes=i), path=f"/p{i}", **fields)  # type: ignore[arg-type]
        for i in range(n)
    ]


def test_roundtrip_every_field(store: Store) -> None:
    ev = Event(
        name="shop.checkout",
        ts=datetime(2026, 10, 2, 3, 4, 5, 678901, tzinfo=timezone.utc),
        site="s.com",
        source="server",
        url="https://s.com/a?b=1",
        host="s.com",
        path="/a",
        title="A",
        referrer="https://r.com/x",
        referrer_host="r.com",
        referrer_source="R",
        utm_source="nl",
        utm_medium="email",
        utm_campaign="c",
        utm_term="t",
        utm_content="k",
        method="POST",
        status=201,
        duration_ms=12.5,
        bytes=1234,
        visitor_id="v1",
        visit_id="x1",
        user_id="u1",
        ip="10.0.0.0",
        user_agent="UA/1.0",
        country="DE",
        region="Berlin",
        city="Berlin",
        browser="Firefox",
        browser_version="132.0",
        os="Linux",
        os_version="6",
        device="desktop",
        is_bot=True,
        language="de-DE",
        screen="1920x1080",
        platform="web",
        timezone="Europe/Berlin",
        props={"plan": "pro", "n": 3, "tags": ["a", "b"], "ok": True},
        context={"tenant": {"id": 7}},
        schema="iglu:com.acme/x/jsonschema/1-0-0",
    )
    assert store.write([ev]) == 1
    (back,) = store.get_usage()
    assert back == ev


def test_write_is_idempotent_on_id(store: Store) -> None:
    batch = _events(10)
    assert store.write(batch) == 10
    assert store.write(batch) == 0
    assert store.write(batch[:3] + _events(2, site="other")) == 2
    assert store.count() == 12


def test_get_usage_pages_newest_first(store: Store) -> None:
    store.write(_events(25))
    page1 = store.get_usage(limit=10, page=1)
    page3 = store.get_usage(limit=10, page=3)
    assert [e.path for e in page1] == [f"/p{i}" for i in range(24, 14, -1)]
    assert [e.path for e in page3] == [f"/p{i}" for i in range(4, -1, -1)]
    assert store.get_usage(limit=10, page=4) == []


def test_get_usage_time_range_and_filters(store: Store) -> None:
    store.write(_events(10, site="a.com", visitor_id="v1"))
    store.write(
        [Event(name="signup", ts=T0 + timedelta(minutes=3, seconds=30), site="b.com", user_id="u9")]
    )
    start, end = T0 + timedelta(minutes=2), T0 + timedelta(minutes=5)
    assert [e.path for e in store.get_usage(start, end)] == ["/p4", "", "/p3", "/p2"]
    assert store.count(start, end) == 4
    assert store.count(filters=EventFilter(site="a.com")) == 10
    assert store.count(filters=EventFilter(name="signup")) == 1
    assert store.count(filters=EventFilter(user_id="u9", site="b.com")) == 1
    assert store.count(filters=EventFilter(visitor_id="nobody")) == 0


def test_filter_values_are_bound_not_pasted(store: Store) -> None:
    store.write(_events(3, site="a.com"))
    hostile = "a.com' OR '1'='1"
    assert store.count(filters=EventFilter(site=hostile)) == 0
    assert store.count() == 3


def test_purge_before_a_date(store: Store) -> None:
    store.write([*_events(10, site="a.com"), Event(name="x", ts=T0, site="b.com")])
    assert store.purge(T0 + timedelta(minutes=5), site="a.com") == 5
    assert store.count() == 6
    assert store.purge(T0 + timedelta(days=1)) == 6
    assert store.count() == 0


def test_delete_one_visitor(store: Store) -> None:
    store.write(_events(4, visitor_id="v1", site="a.com") + _events(3, visitor_id="v2"))
    assert store.delete_visitor("v1") == 4
    assert store.count(filters=EventFilter(visitor_id="v1")) == 0
    assert store.count() == 3


def test_migrate_twice_is_a_no_op(store: Store) -> None:
    assert store.migrate() == []
    assert store.is_writable()


@pytest.mark.parametrize("n", [1, 1500])
def test_batches_of_any_size(store: Store, n: int) -> None:
    assert store.write(_events(n)) == n
    assert store.count() == n
