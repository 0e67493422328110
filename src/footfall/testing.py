"""Test helpers for users who test their own tracking (a pytest plugin).

    def test_checkout_is_tracked(footfall_capture, client):
        client.post("/checkout")
        assert "shop.checkout" in footfall_capture.names()

While the `footfall_capture` fixture is active, every event any tracker of
the process is given lands in memory instead: `footfall.emit`, a tracker the
app made itself, and the request events of the web integrations, including
those built with their own store URLs (`TrackUsage(app, ["sqlite:///..."])`,
`FootfallMiddleware(app, sinks=[...])`, Django's `FOOTFALL` setting). None of
them reaches a processor or a sink, so no test writes to a real database;
the events are as the code built them (no browser, geo or visitor id yet).
The capture's tracker is also the default one, so `footfall.emit` works in
an app that registers none. Everything is restored afterwards.

Reading `.events` flushes first, so the background worker never makes a
test flaky. Outside pytest, `capture_events()` does the same in a `with`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from footfall.delivery.sinks import CaptureSink
from footfall.event import Event
from footfall.tracker import Tracker, _registry, divert, register_tracker

__all__ = ["Capture", "capture_events", "footfall_capture"]


class Capture:
    """A tracker wired to a `CaptureSink`, with flushing accessors."""

    def __init__(self, **tracker_kwargs: Any) -> None:
        self.sink = CaptureSink()
        self.tracker = Tracker([self.sink], **tracker_kwargs)

    @property
    def events(self) -> list[Event]:
        self.tracker.flush(timeout=10)
        return self.sink.events

    def names(self) -> list[str]:
        return [e.name for e in self.events]

    def clear(self) -> None:
        self.tracker.flush(timeout=10)
        self.sink.clear()

    def close(self) -> None:
        self.tracker.close()


@contextmanager
def capture_events(**tracker_kwargs: Any) -> Iterator[Capture]:
    """Capture every event of this process for the `with` block; see the module docstring."""
    previous = _registry.get("default")
    capture = Capture(**tracker_kwargs)
    register_tracker(capture.tracker)
    diverted = divert(capture.tracker)
    try:
        yield capture
    finally:
        divert(diverted)
        capture.close()
        if previous is None:
            _registry.pop("default", None)
        else:
            register_tracker(previous)


@pytest.fixture
def footfall_capture() -> Iterator[Capture]:
    """Every footfall event the code under test produces, in memory for the test's duration."""
    with capture_events() as capture:
        yield capture
