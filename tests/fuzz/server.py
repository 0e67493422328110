"""A real `footfall serve` app for the fuzz suite: uvicorn in its own process.

The fuzzer is a client like any other, so the server runs apart from it: a
request that holds the event loop or the GIL shows up as a client timeout
(a hang) instead of stalling the test itself, and a crash on the server is
read back from its log. The store is a real SQLite file seeded with demo
events, a public site, a private one and two API tokens.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from footfall import connect
from footfall.demo import generate
from footfall.sites import add_site, create_token

PUBLIC_SITE = "demo.footfall.dev"  # the demo data's main site, open to everyone
PRIVATE_SITE = "shop.example.com"  # readable with a token only
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0


@dataclass
class FuzzServer:
    url: str
    token: str  # valid for every site
    site_token: str  # valid for PRIVATE_SITE only
    log_path: Path
    process: subprocess.Popen[bytes]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)


def seed_store(db_url: str) -> tuple[str, str]:
    """Demo events for two sites over two weeks; returns (all-sites token, site token)."""
    store = connect(db_url)
    try:
        add_site(store, PUBLIC_SITE, timezone="Europe/Berlin", public=True)
        add_site(store, PRIVATE_SITE)
        for batch in generate(days=14, seed=7, scale=0.05):
            store.write(batch)
        _, token = create_token(store, "fuzz")
        _, site_token = create_token(store, "fuzz shop", PRIVATE_SITE)
    finally:
        store.close()
    return token, site_token


# `footfall serve`'s uvicorn settings, on a socket bound by the test (no port race).
_SERVE = """
import socket, sys, uvicorn
sock = socket.socket(fileno=int(sys.argv[1]))
config = uvicorn.Config(
    "footfall.server.app:app_from_env", factory=True, log_level="warning",
    access_log=False, proxy_headers=False,
)
uvicorn.Server(config).run(sockets=[sock])
"""


def start_server(folder: Path) -> FuzzServer:
    """Seed a SQLite store in `folder` and serve it on a free loopback port."""
    db_url = f"sqlite:///{folder / 'fuzz.db'}"
    token, site_token = seed_store(db_url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    env = {
        **os.environ,
        "FOOTFALL_DB": db_url,
        # One client address sends every case: the per-IP limit would answer most
        # of them 429 before they reach the code under test.
        "FOOTFALL_RATE_LIMIT": "off",
        "FOOTFALL_CATCHUP_SECONDS": "1",
    }
    env.pop("FOOTFALL_NO_SIGNALS", None)
    log_path = folder / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", _SERVE, str(sock.fileno())],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=[sock.fileno()],
        )
    sock.close()  # the server holds its own copy
    server = FuzzServer(f"http://127.0.0.1:{port}", token, site_token, log_path, process)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited at start:\n{server.log()[-3000:]}")
        try:
            if httpx.get(f"{server.url}/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"the server did not start:\n{server.log()[-3000:]}")
        time.sleep(0.1)
