"""A real `footfall serve` for tests: uvicorn on a free loopback port, in a thread.

The Snowplow tracker and the browser talk HTTP to it exactly as they would to
a deployed server; the test then reads what was stored through the Python
API (`store.get_usage`) on a fresh connection to the same SQLite file.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import uvicorn

from footfall.collector.ingest import Collector, collector_for
from footfall.event import Event
from footfall.server.app import create_app
from footfall.server.state import ServerState
from footfall.sites import add_site
from footfall.stores import EventFilter, connect

SITE = "example.com"
START_TIMEOUT = 15.0


@dataclass
class LiveServer:
    url: str  # http://127.0.0.1:PORT
    port: int
    db_url: str
    state: ServerState
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def collector(self) -> Collector:
        return collector_for(self.state)

    def flush(self) -> None:
        """Wait until everything the server accepted so far is written."""
        assert self.state.tracker.flush(10)
        assert self.collector.failed.flush(10)

    def events(self, **filters: Any) -> list[Event]:
        """Stored events, oldest first, read back through a separate store connection."""
        self.flush()
        store = connect(self.db_url)
        try:
            found = store.get_usage(limit=10_000, filters=EventFilter(**filters))
        finally:
            store.close()
        return sorted(found, key=lambda e: e.ts)

    def wait_for(
        self, done: Callable[[list[Event]], bool], timeout: float = 15.0, **filters: Any
    ) -> list[Event]:
        """Poll (bounded) until `done(events)`; return the last events seen either way."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.events(**filters)
            if done(found) or time.monotonic() > deadline:
                return found
            time.sleep(0.1)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


def start_server(db_url: str, *sites: str, schemas_dir: str | None = None) -> LiveServer:
    """Register `sites` (default example.com) and serve `create_app(db_url)` on 127.0.0.1."""
    setup = connect(db_url)
    for site in sites or (SITE,):
        add_site(setup, site)
    setup.close()
    app = create_app(db_url, schemas_dir=schemas_dir)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="footfall-test-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    return LiveServer(f"http://127.0.0.1:{port}", port, db_url, app.state.footfall, server, thread)
