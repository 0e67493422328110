"""Test helpers for users who test their own tracking (a pytest plugin).

    def test_signup_is_tracked(footfall_capture):
        client.post("/signup")
        assert "Signup" in footfall_capture.names()

The `footfall_capture` fixture registers a tracker whose only sink is an
in-memory `CaptureSink` as the default tracker, and restores the previous
one afterwards. Reading `.events` flushes first, so the background worker
never makes a test flaky.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from footfall.delivery.sinks import CaptureSink
from footfall.event import Event
from footfall.tracker import Tracker, _registry, register_tracker

__all__ = ["Capture", "footfall_capture"]


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


@pytest.fixture
def footfall_capture() -> Iterator[Capture]:
    """The default tracker, capturing into memory for the test's duration."""
    previous = _registry.get("default")
    capture = Capture()
    register_tracker(capture.tracker)
    try:
        yield capture
    finally:
        capture.close()
        if previous is None:
            _registry.pop("default", None)
        else:
            register_tracker(previous)
