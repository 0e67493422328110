"""SIGTERM in a process that uses a Tracker as a library (no server owning the shutdown).

The handler only hands the signal to a drain thread: it takes no lock, so a
signal that lands while the main thread holds one of the worker's locks
cannot deadlock the process. The queue is still flushed before the signal's
usual effect (the host's handler, or termination).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from footfall import connect

EVENTS = 500

SCRIPT = """
import signal, sys, time
from footfall.stores import connect
from footfall.tracker import Tracker

if sys.argv[2] == "host-handler":
    def host(signum, frame):
        print("host handler", connect(sys.argv[1]).count(), flush=True)
        sys.exit(3)
    signal.signal(signal.SIGTERM, host)

# A long flush interval: the events wait in the queue until shutdown flushes them.
tracker = Tracker([sys.argv[1]], [], flush_interval=60)
for i in range(int(sys.argv[3])):
    tracker.emit("job", site="example.com", path=f"/{i}")
# The signal lands while this thread holds the worker's own lock (as it does for
# an instant on every dropped event).
with tracker.worker._count_lock:
    print("ready", flush=True)
    time.sleep(2)
time.sleep(60)
"""


def run_until_sigterm(tmp_path: Path, mode: str) -> tuple[int, str]:
    url = f"sqlite:///{tmp_path / 'lib.db'}"
    connect(url).close()
    env = {**os.environ, "FOOTFALL_NO_SIGNALS": ""}
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, url, mode, str(EVENTS)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first == "ready\n", first + proc.stdout.read()
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate(timeout=10)
        pytest.fail(f"the process did not end after SIGTERM (deadlock?):\n{out}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    store = connect(url)
    try:
        stored = store.count()
    finally:
        store.close()
    assert stored == EVENTS, out
    return proc.returncode, out


def test_sigterm_while_the_worker_lock_is_held_drains_then_terminates(tmp_path: Path) -> None:
    code, out = run_until_sigterm(tmp_path, "default")
    assert code == -signal.SIGTERM, out


def test_sigterm_reaches_the_host_handler_after_the_drain(tmp_path: Path) -> None:
    code, out = run_until_sigterm(tmp_path, "host-handler")
    assert code == 3, out
    assert f"host handler {EVENTS}" in out
