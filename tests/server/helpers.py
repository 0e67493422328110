"""`footfall serve` as operators run it: a subprocess that gets real signals.

`FOOTFALL_NO_SIGNALS` is cleared for the child (the test session sets it for
itself), so the server handles SIGTERM exactly as it does in production.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.private_servers import free_port

from footfall import connect
from footfall.sites import add_site, create_token

SITE = "example.com"
WAIT = 60.0  # seconds: the bound of every wait here


def wait_for(check: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


def site_and_token(db_url: str) -> str:
    """Register SITE in the store at `db_url`; return an API token for it."""
    store = connect(db_url)
    add_site(store, SITE)
    _, token = create_token(store, "backend", SITE)
    store.close()
    return token


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    retry_after: str | None


def post_events(base: str, token: str, start: int, n: int) -> Answer:
    """POST `n` page views (paths /start .. /start+n-1) to /api/event."""
    events = [{"name": "pageview", "url": f"https://{SITE}/{i}"} for i in range(start, start + n)]
    request = urllib.request.Request(
        f"{base}/api/event",
        data=json.dumps({"events": events}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return Answer(r.status, json.loads(r.read()), r.headers.get("Retry-After"))
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, json.loads(exc.read()), exc.headers.get("Retry-After"))


class ServeProcess:
    """`footfall serve --db URL` on a free port, its output kept in a log file."""

    def __init__(self, db_url: str, log: Path, *args: str, env: dict[str, str] | None = None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        cmd = [sys.executable, "-c", "from footfall.cli import main; main()", "serve"]
        cmd += ["--db", db_url, "--port", str(self.port), *args]
        child_env = {**os.environ, "FOOTFALL_NO_SIGNALS": "", "FOOTFALL_RATE_LIMIT": "off"}
        child_env.update(env or {})
        with log.open("ab") as fh:
            self.proc = subprocess.Popen(
                cmd, env=child_env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
            )
        wait_for(self._healthy, f"footfall serve to answer /health:\n{self.output()}")

    def _healthy(self) -> bool:
        if self.proc.poll() is not None:
            pytest.fail(f"footfall serve exited with {self.proc.returncode}:\n{self.output()}")
        try:
            with urllib.request.urlopen(f"{self.base}/health", timeout=1) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def terminate(self) -> None:
        self.proc.send_signal(signal.SIGTERM)

    def exited_within(self, seconds: float) -> bool:
        try:
            self.proc.wait(seconds)
        except subprocess.TimeoutExpired:
            return False
        return True

    def wait(self, timeout: float = WAIT) -> int:
        if not self.exited_within(timeout):
            self.kill()
            pytest.fail(f"footfall serve did not exit within {timeout:.0f}s:\n{self.output()}")
        return int(self.proc.returncode)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@contextmanager
def serving(db_url: str, log: Path, *args: str, **env: str) -> Iterator[ServeProcess]:
    server = ServeProcess(db_url, log, *args, env=env)
    try:
        yield server
    finally:
        server.kill()


@contextmanager
def sqlite_write_locked(path: Path) -> Iterator[None]:
    """Hold the write lock of the SQLite file at `path`, as a long transaction of
    another program would: the server's writes wait (in SQLite's own busy retry)
    until the block ends, while its readers go on."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()
