"""The collector's delivery policy: a sink that is down is retried until it is back.

`footfall serve` answers 202 before an event is stored, so its tracker never
gives up on a failing sink: it holds the batch in hand and retries it with
capped backoff (the outage may last a minute or more), while new events wait
in its bounded queue. Only data the sink refuses as bad is not retried.
The sink here fails for real: it appends to a file in a folder that does not
exist until the test creates it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from footfall.delivery.dispatch import MAX_RETRIES
from footfall.delivery.sinks import JsonlSink
from footfall.delivery.worker import wait_until
from footfall.server.state import collector_tracker
from footfall.tracker import Tracker

EVENTS = 25
TRIES = 10 * (MAX_RETRIES + 1)  # far more attempts than a library tracker makes


def fast_retries(tracker: Tracker) -> Tracker:
    # Milliseconds instead of seconds between attempts: the count, not the clock, matters.
    tracker.dispatcher.backoff_base = 0.001
    tracker.dispatcher.backoff_max = 0.005
    return tracker


def emit(tracker: Tracker) -> None:
    for i in range(EVENTS):
        tracker.emit("pageview", site="example.com", path=f"/{i}")
    tracker.flush(timeout=0)  # hand the batch to the worker now


def test_the_collector_keeps_retrying_a_sink_until_it_comes_back(tmp_path: Path) -> None:
    folder = tmp_path / "not-yet"
    tracker = fast_retries(collector_tracker(JsonlSink(folder / "events.jsonl")))
    try:
        emit(tracker)
        assert wait_until(lambda: tracker.stats().retried >= TRIES * EVENTS, timeout=30)
        assert tracker.stats().failed == 0
        folder.mkdir()  # the sink is back
        assert tracker.flush(timeout=30)
        stats = tracker.stats()
        assert (stats.delivered, stats.failed) == (EVENTS, 0)
        assert len((folder / "events.jsonl").read_bytes().splitlines()) == EVENTS
    finally:
        tracker.close(timeout=5)


def test_closing_the_collector_ends_the_retries_and_counts_what_was_left(tmp_path: Path) -> None:
    tracker = fast_retries(collector_tracker(JsonlSink(tmp_path / "never" / "events.jsonl")))
    emit(tracker)
    assert wait_until(lambda: tracker.stats().retried > 0, timeout=30)
    assert tracker.close(timeout=0.5) == EVENTS
    assert wait_until(lambda: tracker.stats().failed == EVENTS, timeout=30)


class RefusingSink:
    """Stands for a store that rejects the data itself (a constraint violated)."""

    def __init__(self) -> None:
        self.calls = 0

    def write(self, events: object) -> None:
        self.calls += 1
        raise sqlite3.IntegrityError("CHECK constraint failed")

    def close(self) -> None:
        pass


def test_bad_data_is_not_retried_forever() -> None:
    sink = RefusingSink()
    tracker = collector_tracker(sink)
    try:
        emit(tracker)
        assert tracker.flush(timeout=30)
        assert (sink.calls, tracker.stats().failed) == (1, EVENTS)
    finally:
        tracker.close(timeout=5)
