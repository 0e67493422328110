"""`footfall serve` and `footfall worker` as real subprocesses, and bounded waits.

The subprocesses get the environment of a deployed server, not of the test
run: `FOOTFALL_NO_SIGNALS` (set by tests/conftest.py so pytest keeps SIGTERM)
is removed, so `serve` installs the same SIGTERM handling a user's server
has.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["FaultTimeout", "Footfall", "pending_events", "serve", "stop", "wait_for", "worker"]

WAIT = 60.0  # seconds: the default bound of every wait
T = TypeVar("T")


class FaultTimeout(AssertionError):
    """A bounded wait ran out (an AssertionError, so pytest reports it as a failure)."""


def wait_for(check: Callable[[], T], timeout: float = WAIT, what: str = "condition") -> T:
    """Poll `check` until it returns something truthy; raise FaultTimeout after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise FaultTimeout(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


def _env(extra: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOOTFALL_")}
    env.update(extra or {})
    return env


class Footfall:
    """One `footfall ...` subprocess, its output captured to a log file."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.args = args
        self.log = log
        cmd = [sys.executable, "-c", "from footfall.cli import main; main()", *args]
        with log.open("ab") as fh:
            self.proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=_env(env))

    @property
    def pid(self) -> int:
        return self.proc.pid

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait(self, timeout: float = WAIT) -> int:
        """The exit status; kills the process and raises FaultTimeout if it does not exit."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise FaultTimeout(
                f"{self.args[0]} did not exit within {timeout:.0f}s:\n{self.output()[-3_000:]}"
            ) from None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def worker_summary(self) -> dict[str, int]:
        """The counts `footfall worker` prints when it exits."""
        m = re.search(
            r"([\d,]+) events in ([\d,]+) entries stored \(([\d,]+) new, ([\d,]+) duplicates\), "
            r"([\d,]+) claimed",
            self.output(),
        )
        if m is None:
            raise AssertionError(f"no worker summary in its output:\n{self.output()[-3_000:]}")
        keys = ("events", "entries", "new", "duplicates", "claimed")
        return {k: int(v.replace(",", "")) for k, v in zip(keys, m.groups(), strict=True)}


def _healthy(proc: Footfall, url: str) -> bool:
    if not proc.alive():
        raise AssertionError(f"footfall serve exited:\n{proc.output()[-3_000:]}")
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def serve(
    db_url: str, port: int, log: Path, *extra: str, env: dict[str, str] | None = None
) -> tuple[Footfall, str]:
    """Start `footfall serve` and wait until `/health` answers; return it and its base URL."""
    proc = Footfall(["serve", "--db", db_url, "--port", str(port), *extra], log, env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _healthy(proc, url), what="footfall serve to answer /health")
    except BaseException:
        proc.kill()
        raise
    return proc, url


def worker(
    redis_url: str, stream: str, db_url: str, consumer: str, log: Path, *extra: str
) -> Footfall:
    """Start `footfall worker` as `consumer` (it runs until signalled)."""
    args = ["worker", "--redis", redis_url, "--stream", stream, "--db", db_url]
    return Footfall([*args, "--consumer", consumer, *extra], log)


def stop(proc: Footfall, timeout: float = WAIT) -> int:
    """SIGTERM and wait (bounded); the exit status."""
    if proc.alive():
        proc.signal(signal.SIGTERM)
    return proc.wait(timeout)


def pending_events(client: Any, stream: str, consumer: str, group: str = "footfall") -> list[str]:
    """Ids of the events in the stream entries `consumer` holds unacknowledged."""
    from footfall.delivery.serialize import decode_batch

    rows = client.xpending_range(stream, group, "-", "+", 10_000, consumername=consumer)
    ids: list[str] = []
    for row in rows:
        for _id, fields in client.xrange(stream, row["message_id"], row["message_id"]):
            ids += [e.id for e in decode_batch(fields[b"events"], fields[b"fmt"].decode())]
    return ids
