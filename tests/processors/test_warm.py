"""Warming the processors before a server forks (gunicorn --preload)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from footfall import Event, Tracker, connect
from footfall.delivery.sinks import CaptureSink
from footfall.processors import referrer, useragent, warm
from footfall.processors.defaults import default_processors


def test_warm_loads_rules_and_lists_without_touching_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(useragent, "_resolver", None)  # as in a fresh process
    monkeypatch.setattr(referrer, "_sources", None)
    store = connect(f"sqlite:///{tmp_path}/w.db")
    try:
        chain = default_processors(store)
        warm(chain)
        assert useragent._resolver is not None
        assert referrer._sources is not None
        # No shared state was created: salts are made by the first real batch.
        assert store.query("SELECT COUNT(*) FROM visitor_salts")[0][0] == 0
    finally:
        store.close()


def test_tracker_warm_then_events_still_enriched(tmp_path: Path) -> None:
    sink = CaptureSink()
    tracker = Tracker([sink], default_processors(None, visits=False, cookieless=False))
    try:
        tracker.warm()
        tracker.send(
            Event(name="pageview", user_agent=useragent.WARM_AGENT, referrer="https://google.com/")
        )
        tracker.flush(10)
        (event,) = sink.events
        assert event.browser == "Chrome"
        assert event.referrer_source == "Google"
    finally:
        tracker.close()


def test_a_failing_warm_step_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        def __call__(self, event: Event) -> Event:
            return event

        def warm(self) -> None:
            raise RuntimeError("no rules")

    with caplog.at_level(logging.ERROR, logger="footfall.processors"):
        warm([Broken()])
    assert "warming" in caplog.text
