"""Helpers for the transport tests: bounded waits, sample events, worker processes."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from footfall.event import Event

WAIT = 60.0  # seconds: the bound of every wait in these tests


def wait_for(check: Callable[[], Any], timeout: float = WAIT, what: str = "condition") -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


def make_events(n: int, site: str = "example.com", **fields: Any) -> list[Event]:
    return [
        Event(name="pageview", site=site, path=f"/p/{i}", visitor_id=f"v{i % 7}", **fields)
        for i in range(n)
    ]


class WorkerProcess:
    """`footfall worker` in a subprocess, its stderr captured to a file."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.log = log
        self._fh = log.open("wb")
        cmd = [sys.executable, "-c", "from footfall.cli import main; main()", "worker", *args]
        self.proc = subprocess.Popen(cmd, stdout=self._fh, stderr=subprocess.STDOUT)

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def wait(self, timeout: float = WAIT) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            pytest.fail(f"worker did not exit within {timeout:.0f}s:\n{self.output()}")

    def output(self) -> str:
        self._fh.flush()
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self._fh.close()


def pending_of(client: Any, stream: str, consumer: str, group: str = "footfall") -> int:
    """Entries handed to `consumer` and not yet acknowledged."""
    try:
        rows = client.xpending_range(stream, group, "-", "+", 10_000, consumername=consumer)
    except Exception:  # group not created yet
        return 0
    return len(rows)


class Serve:
    """`footfall serve` on a fixed port, which can be stopped and started again."""

    def __init__(self, db_url: str, port: int, log: Path, *extra: str) -> None:
        self.db_url, self.port, self.log, self.extra = db_url, port, log, extra
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        cmd = [
            sys.executable,
            "-c",
            "from footfall.cli import main; main()",
            "serve",
            "--db",
            self.db_url,
            "--port",
            str(self.port),
            *self.extra,
        ]
        with self.log.open("ab") as fh:
            self.proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT)
        wait_for(self._healthy, what=f"footfall serve up:\n{self.log.read_text()}")

    def _healthy(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            pytest.fail(f"footfall serve exited:\n{self.log.read_text()}")
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=1) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # flushes its queue to the store
            try:
                self.proc.wait(WAIT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
