from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

import footfall
from footfall import CaptureSink, Event, JsonlSink, StoreSink, Tracker
from footfall.delivery.worker import BackgroundWorker, wait_until

SRC = str(Path(__file__).resolve().parents[1] / "src")


class BlockingSink:
    """Holds the worker inside write() until released."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.events: list[Event] = []

    def write(self, events: Sequence[Event]) -> None:
        self.entered.set()
        self.release.wait(10)
        self.events.extend(events)

    def close(self) -> None:
        pass


def test_full_queue_drops_and_counts_without_blocking() -> None:
    sink = BlockingSink()
    t = Tracker([sink], queue_size=10, batch_size=1, flush_interval=0.01)
    t.emit("first")
    assert sink.entered.wait(5)  # the worker is stuck in the sink
    started = time.monotonic()
    for i in range(100):
        t.emit("e", {"i": i})
    elapsed = time.monotonic() - started
    stats = t.stats()
    assert stats.dropped == 90
    assert stats.enqueued == 11  # "first" + 10 queued
    assert elapsed < 5  # returned although the worker is blocked (generous: not a timing test)
    sink.release.set()
    assert t.flush(10)
    assert len(sink.events) == 11
    assert t.stats().delivered == 11


def test_callbacks_and_a_raising_callback_does_not_kill_the_thread() -> None:
    calls: list[int] = []

    def on_success(n: int) -> None:
        calls.append(n)
        raise RuntimeError("user bug")

    sink = CaptureSink()
    t = Tracker([sink], on_success=on_success)
    t.emit("a")
    t.flush(5)
    t.emit("b")
    t.flush(5)
    assert calls == [1, 1]
    assert sink.names() == ["a", "b"]
    assert t.worker._thread is not None and t.worker._thread.is_alive()


def test_retry_then_success() -> None:
    class Flaky:
        def __init__(self) -> None:
            self.fail = 2
            self.events: list[Event] = []

        def write(self, events: Sequence[Event]) -> None:
            if self.fail:
                self.fail -= 1
                raise ConnectionError("flaky")
            self.events.extend(events)

        def close(self) -> None:
            pass

    sink = Flaky()
    t = Tracker([sink])
    t.dispatcher.backoff_base = 0.001
    for i in range(3):
        t.emit("e", {"i": i})
    t.flush(10)
    stats = t.stats()
    assert len(sink.events) == 3
    assert (stats.delivered, stats.failed, stats.retried) == (3, 0, 6)


def test_non_retryable_error_is_not_retried() -> None:
    class Refusing:
        calls = 0

        def write(self, events: Sequence[Event]) -> None:
            Refusing.calls += 1
            exc = ValueError("refused")
            exc.retryable = False  # type: ignore[attr-defined]
            raise exc

        def close(self) -> None:
            pass

    t = Tracker([Refusing()])
    t.emit("e")
    t.flush(5)
    assert Refusing.calls == 1
    assert t.stats().failed == 1


def test_batches_by_size() -> None:
    sizes: list[int] = []

    class Recorder:
        def write(self, events: Sequence[Event]) -> None:
            sizes.append(len(events))

        def close(self) -> None:
            pass

    t = Tracker([Recorder()], batch_size=10, flush_interval=60)
    for _ in range(35):
        t.emit("e")
    t.flush(5)
    assert sum(sizes) == 35
    assert max(sizes) <= 10


def test_timed_flush_without_explicit_flush() -> None:
    sink = CaptureSink()
    t = Tracker([sink], flush_interval=0.05)
    t.emit("e")
    deadline = time.monotonic() + 10
    while not len(sink) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sink.names() == ["e"]


def test_worker_submit_after_close_is_dropped() -> None:
    seen: list[int] = []
    w = BackgroundWorker(lambda batch: seen.extend(batch))
    w.submit(1)
    assert w.close(5) == 0
    assert not w.submit(2)
    assert seen == [1] and w.dropped == 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_delivers_its_own_events(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    t = Tracker([JsonlSink(out)])
    t.emit("parent-before")
    t.flush(5)
    pid = os.fork()
    if pid == 0:  # child: its worker thread did not survive the fork
        code = 1
        try:
            t.emit("child")
            code = 0 if t.flush(5) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    t.emit("parent-after")
    t.flush(5)
    names = sorted(line.split('"name":"')[1].split('"')[0] for line in out.read_text().splitlines())
    assert names == ["child", "parent-after", "parent-before"]


def _script(db_url: str, n: int, then: str) -> str:
    return textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {SRC!r})
        import footfall
        t = footfall.Tracker([{db_url!r}], flush_interval=30)
        for i in range({n}):
            t.emit("pageview", {{"i": i}}, path="/p")
        print("emitted", flush=True)
        {then}
        """
    )


def _count(db_url: str) -> int:
    store = footfall.connect(db_url)
    try:
        return store.count()
    finally:
        store.close()


def test_normal_exit_leaves_every_event(db_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "FOOTFALL_NO_SIGNALS"}
    proc = subprocess.run(
        [sys.executable, "-c", _script(db_url, 5000, "")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert _count(db_url) == 5000


def test_sigterm_leaves_every_event(db_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "FOOTFALL_NO_SIGNALS"}
    proc = subprocess.Popen(
        [sys.executable, "-c", _script(db_url, 5000, "time.sleep(60)")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "emitted"
    proc.send_signal(signal.SIGTERM)
    proc.wait(60)
    assert proc.returncode == -signal.SIGTERM  # default action kept after our flush
    assert _count(db_url) == 5000


def test_sigterm_chains_to_host_handler(db_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "FOOTFALL_NO_SIGNALS"}
    then = textwrap.dedent(
        """
        import signal, os
        def host_handler(signum, frame):
            print("host handler ran", flush=True)
            os._exit(7)
        signal.signal(signal.SIGTERM, host_handler)
        t2 = footfall.Tracker([])  # a tracker created after the host's handler
        t2.emit("x")
        t2.flush(5)
        print("ready", flush=True)
        time.sleep(60)
        """
    ).replace("\n", "\n        ")
    proc = subprocess.Popen(
        [sys.executable, "-c", _script(db_url, 100, then)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "emitted"
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 7, err
    assert "host handler ran" in out
    assert _count(db_url) == 100  # flushed before the host's handler exited


def test_four_processes_writing_one_sqlite_file(db_url: str) -> None:
    footfall.connect(db_url).close()
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {SRC!r})
        import footfall
        store = footfall.connect({db_url!r})
        t = footfall.Tracker([footfall.StoreSink(store)], batch_size=50, flush_interval=0.01)
        for i in range(4000):
            t.emit("e", {{"i": i}}, site="p" + sys.argv[1])
        left = t.close(120)
        sys.exit(0 if left == 0 and t.stats().failed == 0 else 3)
        """
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(i)], stderr=subprocess.PIPE, text=True)
        for i in range(4)
    ]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert "locked" not in err
    store = footfall.connect(db_url)
    assert store.count() == 16_000
    for i in range(4):
        assert store.count(filters=footfall.stores.EventFilter(site=f"p{i}")) == 4000


def test_duplicate_ids_stored_once(sqlite_store: footfall.stores.Store) -> None:
    t = Tracker([StoreSink(sqlite_store)])  # type: ignore[arg-type]
    ev = t.emit("e", {"a": 1})
    t.send(ev)  # the same event again, as a retry would
    t.flush(5)
    assert sqlite_store.write([ev]) == 0  # type: ignore[attr-defined]
    assert sqlite_store.count() == 1  # type: ignore[attr-defined]


def test_counts_stay_exact_with_markers_in_the_queue() -> None:
    gate = threading.Event()
    seen: list[int] = []

    def process(batch: list[int]) -> None:
        gate.wait(30)
        seen.extend(batch)

    w = BackgroundWorker(process, batch_size=2, flush_interval=60)
    for i in range(5):
        assert w.submit(i)
    assert not w.flush(timeout=0.05)  # its marker stays queued behind the blocked batch
    for i in range(5, 8):
        assert w.submit(i)
    assert w.enqueued == 8
    assert w.pending == 8 - len(seen)
    assert w.depth >= 8 - 2  # at most one batch taken off the queue so far
    gate.set()
    assert w.flush(timeout=10)
    assert (w.enqueued, w.pending, w.depth) == (8, 0, 0)
    assert sorted(seen) == list(range(8))
    gate.clear()  # block again: markers already consumed must no longer count
    for i in range(8, 12):
        assert w.submit(i)
    assert wait_until(lambda: w.depth <= 2, 10)  # the thread holds one batch of 2
    assert w.enqueued == 12
    gate.set()
    assert w.close(timeout=10) == 0
    assert sorted(seen) == list(range(12))
