"""The Store contract's `iter_events`, run against every backend."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from footfall import Event
from footfall.stores import Store, keyset

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=timezone.utc)


def _stored(store: Store) -> list[Event]:
    """Events of two sites, several sharing a timestamp (the id breaks the tie)."""
    events = [
        Event(
            name="pageview",
            site=("a.com", "b.com")[i % 2],
            ts=T0 + timedelta(seconds=i // 3),
            path=f"/p{i}",
            props={"i": i},
        )
        for i in range(47)
    ]
    assert store.write(events) == len(events)
    store.flush_buffer()
    return events


def _key(e: Event) -> tuple[str, datetime, str]:
    return (e.site, e.ts, e.id)


@pytest.mark.parametrize("chunk", [1, 5, 7, 10_000])
def test_every_event_once_in_order(store: Store, chunk: int) -> None:
    events = _stored(store)
    chunks = list(store.iter_events(chunk=chunk))
    assert all(0 < len(c) <= chunk for c in chunks)
    got = [e for c in chunks for e in c]
    assert [_key(e) for e in got] == sorted(_key(e) for e in events)
    assert {e.id: e for e in got} == {e.id: e for e in events}


def test_site_and_time_range(store: Store) -> None:
    events = _stored(store)
    start, end = T0 + timedelta(seconds=3), T0 + timedelta(seconds=9)
    got = [e for c in store.iter_events("b.com", start, end, chunk=4) for e in c]
    want = sorted((e for e in events if e.site == "b.com" and start <= e.ts < end), key=_key)
    assert [e.id for e in got] == [e.id for e in want]
    assert got and all(e.site == "b.com" for e in got)


def test_nothing_to_read(store: Store) -> None:
    assert list(store.iter_events()) == []
    _stored(store)
    assert list(store.iter_events("nobody.example")) == []
    with pytest.raises(ValueError, match="chunk"):
        list(store.iter_events(chunk=0))


@pytest.mark.parametrize("chunk", [1, 6, 16, 100])
def test_probing_each_chunk_reads_the_same(store: Store, chunk: int) -> None:
    """The probe (each chunk's end asked first, as ClickHouse does) on every store."""
    _stored(store)  # and flushed: every event is in `events`
    plain = [e for c in keyset.iter_events(store, chunk=chunk) for e in c]
    chunks = list(keyset.iter_events(store, chunk=chunk, probe=True))
    assert all(0 < len(c) <= chunk for c in chunks)
    assert [e for c in chunks for e in c] == plain and len(plain) == 47
