"""HttpSink's spool: spooled is not delivered, and the spool is replayed soon after the
collector's return, by the process that spooled it.

The first test stops and restarts a real `footfall serve`; the others use the
scripted collector of `http_app.py`, which answers 503 with a long Retry-After
on demand.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from footfall import connect
from footfall.delivery.http_sink import REPLAY_MAX_INTERVAL, HttpSink
from footfall.event import Event
from footfall.sites import add_site, create_token
from footfall.stores.base import Store
from footfall.tracker import Tracker
from transports.helpers import Serve, wait_for
from transports.http_app import Collector, free_port, serve

SITE = "example.com"
TOKEN = "t0k3n"


@pytest.fixture
def token(db_url: str) -> str:
    store = connect(db_url)
    add_site(store, SITE)
    _, secret = create_token(store, "http-sink", SITE)
    store.close()
    return secret


@pytest.fixture
def footfall_serve(db_url: str, tmp_path: Path, token: str) -> Iterator[Serve]:
    s = Serve(db_url, free_port(), tmp_path / "serve.log")
    s.start()
    yield s
    s.stop()


def stored_ids(db_url: str) -> set[str]:
    store = connect(db_url)
    try:
        return {e.id for e in store.get_usage(limit=10_000)}
    finally:
        store.close()


def test_spooled_events_are_not_delivered_until_replayed_after_the_collector_returns(
    footfall_serve: Serve, token: str, db_url: str, tmp_path: Path
) -> None:
    sink = HttpSink(footfall_serve.url, token, spool=tmp_path / "spool")  # default ceiling
    tracker = Tracker([sink], flush_interval=0.05)
    up = [tracker.emit("pageview", site=SITE, path=f"/up/{i}") for i in range(20)]
    assert tracker.flush(30)
    assert (tracker.stats().delivered, tracker.stats().spooled) == (20, 0)

    footfall_serve.stop()
    down: list[Event] = []
    # Long enough for the replay's backoff to reach its ceiling (0.5 s doubling to 5 s).
    until = time.monotonic() + 8
    while time.monotonic() < until:
        down.append(tracker.emit("pageview", site=SITE, path="/down"))
        time.sleep(0.02)
    assert tracker.worker.flush(60)  # every batch handled: here, spooled
    assert not tracker.flush(1)  # ... which is not delivered
    during = tracker.stats()
    assert (during.delivered, during.spooled, during.failed) == (len(up), len(down), 0)
    assert sink.held_events == len(down) and sink.spool

    footfall_serve.start()
    back = [tracker.emit("shop.checkout", site=SITE, props={"n": i}) for i in range(20)]
    # The process that spooled replays, and flush() waits for it (the bound only keeps a
    # broken replay from hanging the suite; it drains within the 5 s ceiling).
    assert tracker.flush(60)
    after = tracker.stats()
    sent = up + down + back
    assert (after.delivered, after.spooled, after.failed) == (len(sent), 0, 0)
    # Those sent while the spool still held batches queued behind them, in order.
    assert not sink.spool and sink.replayed_events == sink.spooled_events >= len(down)
    wait_for(lambda: stored_ids(db_url) == {e.id for e in sent}, what="every event stored")
    tracker.close()


@pytest.fixture
def scripted(sqlite_store: Store) -> Iterator[tuple[Collector, str]]:
    """The scripted collector and its URL."""
    collector = Collector(sqlite_store, TOKEN)
    running = serve(collector, free_port())
    yield collector, running.url
    running.stop()


def test_a_long_retry_after_does_not_hold_the_spool_past_the_ceiling(
    scripted: tuple[Collector, str], sqlite_store: Store, tmp_path: Path
) -> None:
    """A collector (or a proxy) asking for an hour is tried again within the ceiling."""
    assert REPLAY_MAX_INTERVAL <= 5  # the documented ceiling: replay within seconds
    collector, url = scripted
    hour = {"Retry-After": "3600"}
    collector.script = [(503, hour)] * 4  # the first request, then three replays
    sink = HttpSink(url, TOKEN, spool=tmp_path / "spool", retries=0)
    sink.replay_max_interval = 0.5  # a short ceiling keeps the test short
    tracker = Tracker([sink], flush_interval=0.05)
    events = [tracker.emit("pageview", site=SITE, path=f"/{i}") for i in range(10)]
    assert tracker.worker.flush(30) and sink.held_events == 10
    assert tracker.flush(60)  # replayed despite the hour asked for
    assert len(collector.requests) == 5
    assert {e.id for e in sqlite_store.get_usage()} == {e.id for e in events}
    assert tracker.stats().spooled == 0 and tracker.stats().delivered == 10
    tracker.close()


def test_close_replays_the_spool_without_waiting_for_the_backoff(
    scripted: tuple[Collector, str], sqlite_store: Store, tmp_path: Path
) -> None:
    """Back before the replay's next try: closing sends the spool rather than leaving it
    to the next process that opens the folder."""
    collector, url = scripted
    collector.script = [(503, {"Retry-After": "30"})]
    sink = HttpSink(url, TOKEN, spool=tmp_path / "spool", retries=0)
    sink.replay_max_interval = 60.0  # the next scheduled try is 30 s away
    tracker = Tracker([sink], flush_interval=0.05)
    events = [tracker.emit("pageview", site=SITE, path=f"/{i}") for i in range(10)]
    assert tracker.worker.flush(30) and sink.held_events == 10
    assert tracker.close(30) == 0
    assert not sink.spool and sink.held_events == 0
    assert {e.id for e in sqlite_store.get_usage()} == {e.id for e in events}
