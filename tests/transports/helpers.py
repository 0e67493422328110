"""Helpers for the transport tests: bounded waits, sample events, worker processes."""

from __future__ import annotations

import subprocess
import sys
import time
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
