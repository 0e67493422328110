"""`--follow`: a growing log is imported as it grows, through both kinds of rotation."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from footfall.importers.follow import Follower

from .conftest import HUMAN_PAGEVIEWS, REQUESTS, SITE, VISITS, combined, is_human_page, rows

FOOTFALL = str(Path(sys.executable).with_name("footfall"))


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def followed(tmp_path: Path) -> Iterator[tuple[Path, list[str], threading.Event]]:
    """A log file, the lines a Follower has handed over so far, and its stop switch."""
    path = tmp_path / "access.log"
    path.write_text("one\ntwo\n")
    got: list[str] = []
    stop = threading.Event()
    follower = Follower(str(path), stop, poll=0.01)

    def run() -> None:
        for lines in follower.batches():
            got.extend(lines)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield path, got, stop
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()


def test_lines_are_handed_over_whole(followed: Any) -> None:
    path, got, _ = followed
    wait_for(lambda: got == ["one", "two"], "the first lines")
    with path.open("a") as f:
        f.write("thr")
        f.flush()
        time.sleep(0.1)  # the follower sees the partial line and must wait for its end
        f.write("ee\r\nfour\n")
    wait_for(lambda: got == ["one", "two", "three", "four"], "the completed line")


def test_a_renamed_log_is_read_to_its_end_then_the_new_one(followed: Any) -> None:
    path, got, _ = followed
    wait_for(lambda: len(got) == 2, "the first lines")
    rotated = path.with_name("access.log.1")
    os.rename(path, rotated)
    with rotated.open("a") as f:  # the server writes on until it reopens its log
        f.write("late\n")
    time.sleep(0.1)
    path.write_text("new one\nnew two\n")
    wait_for(lambda: got[2:] == ["late", "new one", "new two"], "the new file's lines")
    with path.open("a") as f:
        f.write("new three\n")
    wait_for(lambda: got[-1] == "new three", "a line appended to the new file")


def test_a_copytruncated_log_is_read_again_from_its_start(followed: Any) -> None:
    path, got, _ = followed
    wait_for(lambda: len(got) == 2, "the first lines")
    shutil.copy(path, path.with_name("access.log.1"))
    with path.open("r+") as f:
        f.truncate(0)
    time.sleep(0.1)
    with path.open("a") as f:
        f.write("after\n")
    wait_for(lambda: got == ["one", "two", "after"], "the line after the truncation")
    # Truncated and refilled past the old length before the follower looked again.
    with path.open("r+") as f:
        f.truncate(0)
        f.write("a line longer than everything before\n")
    wait_for(lambda: got[3:] == ["a line longer than everything before"], "the refilled line")


def _count(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def test_follow_imports_through_rotations_and_stops_on_sigterm(
    tmp_path: Path, store_of: Any
) -> None:
    log = tmp_path / "access.log"
    db = tmp_path / "footfall.db"
    lines = [combined(h) for h in REQUESTS]
    thirds = [lines[:6], lines[6:12], lines[12:]]
    pages = [
        sum(1 for h in part if is_human_page(h))
        for part in (REQUESTS[:6], REQUESTS[6:12], REQUESTS[12:])
    ]
    log.write_text("".join(line + "\n" for line in thirds[0]))
    proc = subprocess.Popen(
        [
            FOOTFALL,
            "import",
            "log",
            "--follow",
            str(log),
            "--db",
            f"sqlite:///{db}",
            "--site",
            SITE,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: _count(db) == pages[0], "the lines already in the log")
        os.rename(log, tmp_path / "access.log.1")  # logrotate's default
        log.write_text("".join(line + "\n" for line in thirds[1]))
        wait_for(lambda: _count(db) == pages[0] + pages[1], "the rotated-in file's lines")
        shutil.copy(log, tmp_path / "access.log.2")  # copytruncate
        with log.open("r+") as f:
            f.truncate(0)
        with log.open("a") as f:
            f.write("".join(line + "\n" for line in thirds[2]))
        wait_for(lambda: _count(db) == HUMAN_PAGEVIEWS, "the lines after the truncation")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert f"stored {HUMAN_PAGEVIEWS} page views: {HUMAN_PAGEVIEWS} new" in out
    assert "(followed until stopped)" in out
    events = rows(store_of(f"sqlite:///{db}"))
    assert len({e["id"] for e in events}) == HUMAN_PAGEVIEWS
    assert len({e["visit_id"] for e in events}) == VISITS
