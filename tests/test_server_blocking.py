"""The server's event loop never waits for the store.

`/health` asks the store whether it can write, and the collector's site and
token lists are reloaded from it; run on the event loop, either would stall
every request while the store holds its write lock (or a database is slow).
Order decides, not timing: another request answers while `/health` waits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from tests.collector.live_server import LiveServer, start_server

from footfall import connect
from footfall.collector.directory import Directory
from footfall.stores.meta import Site, open_meta

SITE = "blocking.test"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = start_server(f"sqlite:///{tmp_path / 'b.db'}", SITE)
    yield live
    live.stop()


@pytest.mark.timeout(60)
def test_health_waits_for_the_write_lock_off_the_event_loop(server: LiveServer) -> None:
    writer = connect(server.db_url)
    answers: list[int] = []
    with httpx.Client(base_url=server.url, timeout=30) as c:
        with writer.transaction():  # type: ignore[attr-defined] - SQLiteStore
            running = server.server.server_state.tasks  # uvicorn's requests in progress
            health = threading.Thread(target=lambda: answers.append(c.get("/health").status_code))
            health.start()
            for _ in range(3000):  # until the server runs /health (bounded)
                if running:
                    break
                time.sleep(0.01)
            assert running
            other = c.get("/api/docs")  # answered while /health waits for the lock
            assert health.is_alive()
            assert answers == []
        health.join(30)
    writer.close()
    assert other.status_code == 200
    assert answers == [200]


def test_stale_site_list_reloads_in_the_background_on_the_event_loop(tmp_path: Path) -> None:
    store = connect(f"sqlite:///{tmp_path / 'd.db'}")
    meta = open_meta(store)
    now = [0.0]
    directory = Directory(meta, ttl=5.0, clock=lambda: now[0])
    meta.add_site(Site("late.example"))
    now[0] = 6.0  # the lists are stale

    async def look_up() -> Site | None:
        return directory.site("late.example")

    assert anyio.run(look_up) is None  # answered from the lists it had, no query
    found = None
    for _ in range(1000):  # the reload runs on its own thread: bounded wait
        found = anyio.run(look_up)
        if found is not None:
            break
        time.sleep(0.01)
    assert found is not None
    store.close()
