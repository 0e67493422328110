"""HttpSink against the real `footfall serve` (a subprocess), killed and restarted."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from footfall import connect
from footfall.delivery.http_sink import HttpSink
from footfall.event import Event
from footfall.sites import add_site, create_token
from footfall.tracker import Tracker
from transports.helpers import Serve, wait_for
from transports.http_app import free_port

SITE = "example.com"


@pytest.fixture
def token(db_url: str) -> str:
    store = connect(db_url)
    add_site(store, SITE)
    _, secret = create_token(store, "http-sink", SITE)
    store.close()
    return secret


@pytest.fixture
def serve(db_url: str, tmp_path: Path, token: str) -> Iterator[Serve]:
    s = Serve(db_url, free_port(), tmp_path / "serve.log")
    s.start()
    yield s
    s.stop()


def stored(db_url: str) -> dict[str, Event]:
    store = connect(db_url)
    try:
        return {e.id: e for e in store.get_usage(limit=10_000)}
    finally:
        store.close()


@pytest.mark.parametrize("compress", [True, False])
def test_batches_with_server_fields_are_stored(
    serve: Serve, token: str, db_url: str, compress: bool
) -> None:
    events = [
        Event(
            name="pageview",
            site=SITE,
            url=f"https://{SITE}/p/{i}",
            path=f"/p/{i}",
            visitor_id="visitor-1",
            user_id="u-7",
            source="server",
        )
        for i in range(30)
    ]
    sink = HttpSink(serve.url, token, compress=compress)
    sink.write(events)
    sink.close()
    got: Callable[[], dict[str, Event]] = lambda: stored(db_url)  # noqa: E731
    found = wait_for(lambda: len(got()) == 30 and got(), what="events stored by serve")
    assert set(found) == {e.id for e in events}
    one = found[events[0].id]
    assert one.ts == events[0].ts and one.user_id == "u-7"


@pytest.mark.slow
def test_collector_down_for_ten_seconds_every_event_arrives(
    serve: Serve, token: str, db_url: str, tmp_path: Path
) -> None:
    sink = HttpSink(serve.url, token, spool=tmp_path / "spool", replay_max_interval=1.0)
    tracker = Tracker([sink], flush_interval=0.05)
    sent = [tracker.emit("pageview", site=SITE, path=f"/a/{i}") for i in range(40)]
    assert tracker.flush(10)
    serve.stop()
    down_until = time.monotonic() + 10
    while time.monotonic() < down_until:
        sent.append(tracker.emit("pageview", site=SITE, path="/during-outage"))
        time.sleep(0.02)
    assert not tracker.flush(1) and sink.spooled > 0  # spooled is not delivered
    serve.start()
    sent += [tracker.emit("shop.checkout", site=SITE, props={"n": i}) for i in range(40)]
    wait_for(lambda: len(stored(db_url)) == len(sent), what="every event after the outage")
    tracker.close()
    assert set(stored(db_url)) == {e.id for e in sent}
    assert tracker.stats().failed == 0 and not sink.spool
