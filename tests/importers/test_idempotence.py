"""Importing the same lines again stores nothing twice, with the same ids, even after a crash."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from footfall.importers.ids import SECRET_KEY
from footfall.importers.log import LogImporter
from footfall.importers.sources import Input

from .conftest import (
    CHROME,
    DAY,
    HUMAN_PAGEVIEWS,
    REQUESTS,
    SITE,
    VISITS,
    rows,
    run_import,
    write_log,
)

FOOTFALL = str(Path(sys.executable).with_name("footfall"))
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=timezone.utc)


def ids_of(store: Any) -> set[tuple[str, str, str]]:
    return {(e["id"], e["visitor_id"], e["visit_id"]) for e in rows(store)}


def test_importing_twice_stores_once_with_the_same_ids(
    tmp_path: Path, db: str, store_of: Any
) -> None:
    log = write_log(tmp_path / "access.log", "combined")
    assert run_import(str(log), "--db", db, "--site", SITE).exit_code == 0
    store = store_of(db)
    first = ids_of(store)
    again = run_import(str(log), "--db", db, "--site", SITE)
    assert again.exit_code == 0
    assert f"stored {HUMAN_PAGEVIEWS} page views: 0 new, {HUMAN_PAGEVIEWS} already stored" in (
        again.stdout
    )
    assert ids_of(store) == first and len(first) == HUMAN_PAGEVIEWS
    # Visitor and visit ids are derived, not random: deleted and imported again, they come back.
    store.purge(FAR_FUTURE)
    assert rows(store) == []
    assert run_import(str(log), "--db", db, "--site", SITE).exit_code == 0
    assert ids_of(store) == first


def test_rotated_files_given_newest_first_make_whole_visits(
    tmp_path: Path, db: str, store_of: Any
) -> None:
    # Alice's first visit runs from 10:00 to 10:20; logrotate cut the log at 10:15.
    cut = DAY + timedelta(hours=10, minutes=15)
    older = write_log(tmp_path / "access.log.1", "combined", [h for h in REQUESTS if h.at < cut])
    newer = write_log(tmp_path / "access.log", "combined", [h for h in REQUESTS if h.at >= cut])
    both = write_log(tmp_path / "whole.log", "combined")
    assert run_import(str(both), "--db", db, "--site", SITE).exit_code == 0
    store = store_of(db)
    whole = {(e["ts"], e["path"], e["visitor_id"], e["visit_id"]) for e in rows(store)}
    store.purge(FAR_FUTURE)
    # As a shell glob gives them: `access.log access.log.1`.
    result = run_import(str(newer), str(older), "--db", db, "--site", SITE)
    assert result.exit_code == 0, result.output
    assert "from 2 inputs" in result.stdout
    split = {(e["ts"], e["path"], e["visitor_id"], e["visit_id"]) for e in rows(store)}
    assert split == whole
    assert len({e[3] for e in split}) == VISITS


def test_the_secret_makes_the_ids_and_stays_with_the_store(tmp_path: Path, store_of: Any) -> None:
    log = write_log(tmp_path / "access.log", "combined")

    def imported(url: str, secret: bytes | None) -> set[tuple[str, str, str]]:
        store = store_of(url)
        importer = LogImporter(store, site=SITE, secret=secret)
        with Input(str(log)) as source:
            importer.read(source)
        importer.close()
        return ids_of(store)

    a = imported(f"sqlite:///{tmp_path / 'a.db'}", b"k" * 32)
    assert imported(f"sqlite:///{tmp_path / 'b.db'}", b"k" * 32) == a
    other = imported(f"sqlite:///{tmp_path / 'c.db'}", b"j" * 32)
    assert not {i for i, _, _ in other} & {i for i, _, _ in a}
    assert not {v for _, v, _ in other} & {v for _, v, _ in a}
    # The store's own secret: kept as a visitor-salt row that pruning old salts never deletes.
    store = store_of(f"sqlite:///{tmp_path / 'd.db'}")
    own = imported(store.url, None)
    state = store.processor_state()
    assert state.prune_salts("2999-12-31") == 0
    assert store.query("SELECT day FROM visitor_salts") == [(SECRET_KEY,)]
    assert imported(store.url, None) == own


def _page_log(path: Path, lines: int) -> None:
    """`lines` page views of many visitors, one every 0.1 s."""
    start = DAY.astimezone(timezone.utc)
    with path.open("w") as f:
        for i in range(lines):
            at = (start + timedelta(seconds=i // 10)).strftime("%d/%b/%Y:%H:%M:%S %z")
            ip = f"81.{i % 7}.{(i // 7) % 250}.{(i // 1750) % 250 + 1}"
            f.write(f'{ip} - - [{at}] "GET /p/{i % 300} HTTP/1.1" 200 512 "-" "{CHROME}"\n')


def _count(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # the schema is not there yet


def test_an_import_killed_mid_file_is_finished_by_running_it_again(
    tmp_path: Path, store_of: Any
) -> None:
    lines = 20_000  # ten store batches
    log = tmp_path / "big.log"
    _page_log(log, lines)
    path = tmp_path / "footfall.db"
    db = f"sqlite:///{path}"
    args = [str(log), "--db", db, "--site", SITE, "--workers", "0", "--batch-size", "2000"]
    args += ["--no-fold", "--quiet"]
    proc = subprocess.Popen(
        [FOOTFALL, "import", "log", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 120
        while _count(path) == 0 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)  # a crash: no cleanup, the open batch rolls back
    finally:
        proc.wait(timeout=30)
    stored_before = _count(path)
    assert 0 < stored_before < lines, "the import was not caught mid-file"
    result = run_import(*args)
    assert result.exit_code == 0, result.output
    assert f"{lines - stored_before:,} new, {stored_before:,} already stored" in result.stdout
    store = store_of(db)
    resumed = ids_of(store)
    assert len(resumed) == lines
    # Exactly what one uninterrupted import gives.
    store.purge(FAR_FUTURE)
    assert run_import(*args).exit_code == 0
    assert ids_of(store) == resumed


def test_ctrl_c_stores_what_was_read_and_says_how_to_finish(tmp_path: Path) -> None:
    lines = 200_000  # long enough that the signal lands while the import runs
    log = tmp_path / "big.log"
    _page_log(log, lines)
    path = tmp_path / "footfall.db"
    args = [str(log), "--db", f"sqlite:///{path}", "--site", SITE, "--batch-size", "2000"]
    proc = subprocess.Popen(
        [FOOTFALL, "import", "log", *args, "--workers", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while _count(path) == 0 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "(interrupted)" in out and "run the same command again" in out
    stored = _count(path)
    assert f"{stored:,} new" in out  # everything taken before the signal was stored
    assert 0 < stored < lines
    result = run_import(*args)
    assert result.exit_code == 0
    assert f"{lines - stored:,} new, {stored:,} already stored" in result.stdout
