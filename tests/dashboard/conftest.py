"""A real footfall server (uvicorn in a thread) over a temp SQLite file with demo data."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from services import chromium

PASSWORD = "correct horse battery"


@dataclass
class LiveServer:
    url: str
    db_url: str
    user: str = "alice"
    password: str = PASSWORD


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db_url: str, app: Any = None) -> Iterator[str]:
    """Serve `app` (default: `create_app(db_url)`) with uvicorn on a free port."""
    import uvicorn

    from footfall.server.app import create_app

    port = free_port()
    app = app if app is not None else create_app(db_url)
    server = uvicorn.Server(
        # proxy_headers off, as `footfall serve` runs it: footfall reads the proxy header itself.
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            proxy_headers=False,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=1).status_code < 600:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    else:
        raise RuntimeError("server did not start")
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """60 days of demo data (the previous period has data too), one user.

    demo.footfall.dev is public, as after `make run`.
    """
    from footfall import connect
    from footfall.dashboard.auth import Users
    from footfall.demo import generate_into

    path: Path = tmp_path_factory.mktemp("dash") / "footfall.db"
    url = f"sqlite:///{path}"
    store = connect(url)
    generate_into(store, days=60, seed=7, progress=False)
    Users(store).add("alice", PASSWORD)
    store.close()
    return url


@pytest.fixture(scope="session")
def live(demo_db: str) -> Iterator[LiveServer]:
    for url in start_server(demo_db):
        yield LiveServer(url, demo_db)


# Chromium for the browser tests of this folder: one browser per module, a new
# context (1280x900, downloads allowed) per test.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(90_000)
    yield page
    context.close()
