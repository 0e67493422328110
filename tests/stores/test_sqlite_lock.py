"""The writer lock beside a SQLite file: exclusive across processes and threads, bounded."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from footfall import connect
from footfall.stores.sqlite_lock import WriterLock

_HOLDER = """
import sys, time
from footfall.stores.sqlite_lock import WriterLock
lock = WriterLock(sys.argv[1], patience=30)
log = sys.argv[2]
with lock.hold():
    open(log, "a").write("held\\n")
    time.sleep(float(sys.argv[3]))
    open(log, "a").write("released\\n")
time.sleep(float(sys.argv[4]))
"""


def _start_holder(db: Path, log: Path, hold: float, linger: float = 0.0) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(db), str(log), str(hold), str(linger)], text=True
    )
    deadline = time.monotonic() + 30
    while not (log.exists() and "held" in log.read_text()):
        assert time.monotonic() < deadline and proc.poll() is None, "holder did not start"
        time.sleep(0.01)
    return proc


def test_a_writer_in_another_process_waits_for_the_holder(tmp_path: Path) -> None:
    db, log = tmp_path / "f.db", tmp_path / "log"
    proc = _start_holder(db, log, hold=0.5)
    try:
        with WriterLock(str(db), patience=30).hold():
            # Only reachable once the other process let go of the lock.
            assert log.read_text().splitlines() == ["held", "released"]
    finally:
        proc.wait(30)


def test_patience_runs_out_and_the_writer_goes_on(tmp_path: Path) -> None:
    db, log = tmp_path / "f.db", tmp_path / "log"
    proc = _start_holder(db, log, hold=30)
    try:
        with WriterLock(str(db), patience=0.1).hold():
            assert "released" not in log.read_text()  # went ahead; SQLite decides from here
    finally:
        proc.kill()
        proc.wait(30)


def test_threads_of_one_process_take_turns_and_nesting_is_allowed(tmp_path: Path) -> None:
    lock = WriterLock(str(tmp_path / "f.db"), patience=30)
    inside: list[int] = []
    overlaps: list[int] = []

    def work(n: int) -> None:
        for _ in range(50):
            with lock.hold():
                with lock.hold():  # re-entrant: a transaction inside a transaction helper
                    if inside:
                        overlaps.append(n)
                    inside.append(n)
                    time.sleep(0.0005)
                    inside.pop()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert overlaps == []
    lock.close()


def test_an_unwritable_folder_writes_without_the_lock(tmp_path: Path) -> None:
    from footfall.event import Event

    (tmp_path / "f.db.lock").mkdir()  # the lock file cannot be opened: a folder is in its place
    store = connect(f"sqlite:///{tmp_path / 'f.db'}")
    try:
        assert store.write([Event(name="x", site="a.example") for _ in range(20)]) == 20
        assert store.count() == 20
        lock = WriterLock(str(tmp_path / "f.db"), patience=1)
        entered: list[int] = []
        with lock.hold():  # no error: SQLite's own locking remains
            entered.append(1)
        assert entered == [1]
    finally:
        store.close()


def test_store_writes_from_two_processes_all_land(tmp_path: Path) -> None:
    from footfall.event import Event

    url = f"sqlite:///{tmp_path / 's.db'}"
    store = connect(url)
    script = (
        "import sys\n"
        "from footfall import connect\n"
        "from footfall.event import Event\n"
        "s = connect(sys.argv[1], migrate=False)\n"
        "for b in range(40):\n"
        "    s.write([Event(name='x', site=sys.argv[2]) for _ in range(50)])\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, url, f"p{n}.example"]) for n in range(2)
    ]
    for _ in range(40):
        store.write([Event(name="x", site="main.example") for _ in range(50)])
    assert all(p.wait(120) == 0 for p in procs)
    assert store.count() == 3 * 40 * 50
    assert (tmp_path / "s.db.lock").exists()


def test_the_lock_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from footfall.event import Event

    monkeypatch.setenv("FOOTFALL_SQLITE_WRITER_LOCK", "0")
    store = connect(f"sqlite:///{tmp_path / 'off.db'}")
    store.write([Event(name="x", site="a.example")])
    assert store.count() == 1
    assert not (tmp_path / "off.db.lock").exists()
