"""SIGTERM of `footfall serve`: every event answered 202 is stored before the process exits.

The store is slowed for real: the test holds SQLite's write lock, as a long
transaction of another program would, so the server's delivery thread waits
in SQLite's busy retry while ten thousand accepted events sit in its queue.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.server.helpers import post_events, serving, site_and_token, sqlite_write_locked

from footfall import connect

pytestmark = pytest.mark.slow  # a real server, a store held back for seconds

EVENTS = 10_000
PER_REQUEST = 1_000  # the collector's limit of events per request
STALL = 8.0  # seconds the store stays locked after SIGTERM: longer than a short exit-time flush


def test_sigterm_stores_every_accepted_event_while_the_store_is_locked(tmp_path: Path) -> None:
    path = tmp_path / "drain.db"
    url = f"sqlite:///{path}"
    token = site_and_token(url)
    with serving(url, tmp_path / "serve.log", FOOTFALL_CATCHUP_SECONDS="0") as server:
        with sqlite_write_locked(path):
            accepted = 0
            for start in range(0, EVENTS, PER_REQUEST):
                answer = post_events(server.base, token, start, PER_REQUEST)
                assert answer.status == 202, answer.body
                accepted += answer.body["accepted"]
            assert accepted == EVENTS
            server.terminate()
            server.exited_within(STALL)  # still draining, or (wrongly) gone already
        server.wait()
        log = server.output()
    store = connect(url)
    try:
        assert store.count() == accepted, log
    finally:
        store.close()
    assert "undelivered" not in log and "could not be delivered" not in log, log


def test_sigterm_gives_up_after_the_drain_time_and_says_how_many_were_left(
    tmp_path: Path,
) -> None:
    path = tmp_path / "short-drain.db"
    url = f"sqlite:///{path}"
    token = site_and_token(url)
    env = {"FOOTFALL_CATCHUP_SECONDS": "0", "FOOTFALL_SERVER_DRAIN_SECONDS": "1"}
    with serving(url, tmp_path / "serve.log", **env) as server:
        with sqlite_write_locked(path):
            answer = post_events(server.base, token, 0, PER_REQUEST)
            assert answer.status == 202, answer.body
            server.terminate()
            # The store never comes back while the server drains: it must still exit.
            server.wait()
        log = server.output()
    assert f"{PER_REQUEST} events undelivered" in log, log
