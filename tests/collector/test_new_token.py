"""A token made while `footfall serve` runs is good from its first request.

The collector caches its token list for a few seconds. An app started right
after `footfall token create` used to get 401 for its first batches, which
`HttpSink` takes as a permanent refusal: the events were lost.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from footfall.collector.directory import RETRY, Directory
from footfall.delivery import HttpSink
from footfall.sites import create_token
from footfall.stores import connect
from footfall.stores.meta import open_meta
from footfall.tracker import Tracker

from .live_server import SITE, start_server


def test_an_http_sink_with_a_token_made_after_the_server_started_delivers_everything(
    tmp_path: Path,
) -> None:
    db_url = f"sqlite:///{tmp_path / 'footfall.db'}"
    server = start_server(db_url)
    try:
        with httpx.Client() as client:  # the server has read its lists, and answers
            assert client.get(f"{server.url}/health").status_code == 200
        admin = connect(db_url)
        secret = create_token(admin, "backend", site=SITE)[1]
        admin.close()
        tracker = Tracker([HttpSink(server.url, token=secret)], site=SITE)
        for n in range(20):
            tracker.emit("signup", {"n": n})
        assert tracker.flush(timeout=30)
        stats = tracker.stats()
        tracker.close()
        assert (stats.delivered, stats.failed) == (20, 0)
        assert len(server.events(name="signup")) == 20
    finally:
        server.stop()


def test_an_unknown_token_is_refused_after_one_reload(tmp_path: Path) -> None:
    store = connect(f"sqlite:///{tmp_path / 'footfall.db'}")
    now = [0.0]
    directory = Directory(open_meta(store), ttl=5.0, clock=lambda: now[0])
    secret = create_token(store, "backend")[1]

    assert directory.token(secret) == RETRY  # made after the lists were loaded
    directory.reload_after_miss()
    assert directory.token(secret) is not None

    now[0] = 4.0  # within the TTL of that reload: a bad token costs no query
    assert directory.token("ff_not_a_token") is None
    now[0] = 7.0  # past it, a token made since may be meant
    assert directory.token("ff_not_a_token") == RETRY
    directory.reload_after_miss()
    assert directory.token("ff_not_a_token") is None
    store.close()
