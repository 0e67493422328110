"""`Tracker.defer`: items the worker turns into events before the processors run."""

from __future__ import annotations

import logging

import pytest

from footfall import Event, Tracker
from footfall.delivery.sinks import CaptureSink
from footfall.integrations.request import Pending


class Raw:
    """A deferred item: raw values now, an event later (on the worker thread)."""

    def __init__(self, path: str, fail: bool = False) -> None:
        self.path = path
        self.fail = fail

    def to_event(self) -> Event:
        if self.fail:
            raise ValueError("cannot build")
        return Event(name="request", path=self.path)


def test_deferred_items_become_events_in_order_beside_sent_ones() -> None:
    seen: list[str] = []

    def proc(event: Event) -> Event:
        assert type(event) is Event  # processors never see the raw item
        seen.append(event.path)
        return event

    sink = CaptureSink()
    tracker = Tracker([sink], [proc])
    try:
        assert tracker.defer(Raw("/a"))
        tracker.send(Event(name="request", path="/b"))
        tracker.defer(Raw("/c"))
        tracker.flush(10)
    finally:
        tracker.close()
    assert [e.path for e in sink.events] == ["/a", "/b", "/c"] == seen
    assert tracker.stats().delivered == 3


def test_an_item_that_cannot_become_an_event_is_counted_not_fatal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = CaptureSink()
    tracker = Tracker([sink])
    try:
        with caplog.at_level(logging.ERROR, logger="footfall.delivery"):
            tracker.defer(Raw("/bad", fail=True))
            tracker.defer(Raw("/good"))
            tracker.flush(10)
    finally:
        tracker.close()
    assert [e.path for e in sink.events] == ["/good"]
    stats = tracker.stats()
    assert (stats.invalid, stats.delivered) == (1, 1)
    assert "could not build an event" in caplog.text


def test_a_pending_request_is_built_from_its_arrival_clock() -> None:
    sink = CaptureSink()
    tracker = Tracker([sink])
    pending = Pending("GET", "https", "example.com:8443", "/p", "q=1", "", "ua", "en", "", "")
    pending.finish(200, "text/html", 5)
    try:
        tracker.defer(pending)
        tracker.flush(10)
    finally:
        tracker.close()
    (event,) = sink.events
    assert event.ts.timestamp() == pytest.approx(pending.wall_ns / 1e9, abs=1e-6)
    # The UUIDv7's first 48 bits are the arrival time in milliseconds.
    assert int(event.id.replace("-", "")[:12], 16) == pending.wall_ns // 1_000_000
    assert (event.name, event.site, event.url) == (
        "pageview",
        "example.com",
        "https://example.com:8443/p?q=1",
    )


def test_the_null_tracker_keeps_nothing() -> None:
    from footfall.tracker import get_tracker

    assert get_tracker("nobody-registered-this").defer(Raw("/x")) is False
