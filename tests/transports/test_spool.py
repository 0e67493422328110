"""The spool folder: durable appends, crash leftovers, one byte cap for every process."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from footfall.delivery.spool import Spool

BODY = 1_000  # bytes per batch in the cap tests
CAP = 200 * BODY

# A process that opens the spool, waits for "go" on stdin, then appends until refused.
FILLER = textwrap.dedent(
    """
    import sys
    from footfall.delivery.spool import Spool

    spool = Spool(sys.argv[1], int(sys.argv[2]))
    print("ready", flush=True)
    sys.stdin.readline()
    held = 0
    for _ in range(10 * int(sys.argv[2]) // 1000):  # bounded even if the cap were ignored
        if not spool.append(b"x" * 1000):
            break
        held += 1
    print(held, flush=True)
    """
)


def test_the_directory_is_fsynced_after_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without it the new name lives in the page cache only, and a power cut loses the batch."""
    calls: list[tuple[str, object]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:  # records, then does the real fsync
        info = os.fstat(fd)
        calls.append(("fsync-dir" if stat.S_ISDIR(info.st_mode) else "fsync-file", info.st_ino))
        real_fsync(fd)

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        calls.append(("rename", Path(dst).name))
        real_replace(src, dst)

    folder = tmp_path / "spool"
    spool = Spool(folder)
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    assert spool.append(b"a batch")
    [name] = [p.name for p in spool.files()]
    renamed = calls.index(("rename", name))
    assert ("fsync-file", (folder / name).stat().st_ino) in calls[:renamed]
    assert ("fsync-dir", folder.stat().st_ino) in calls[renamed + 1 :]


def test_orphaned_tmp_files_are_removed_and_counted_on_open(tmp_path: Path) -> None:
    folder = tmp_path / "spool"
    first = Spool(folder)
    assert first.append(b"kept")
    # What a writer killed between creating its temporary file and renaming it leaves.
    (folder / ".00001700000000000000-0004242-000000007.tmp").write_bytes(b"x" * 5_000)
    (folder / ".00001700000000000001-0004242-000000008.tmp").write_bytes(b"")
    (folder / "rejected").mkdir()
    (folder / "rejected" / ".00001700000000000002-0004242-000000009.tmp").write_bytes(b"y")

    second = Spool(folder)

    assert not [p for p in folder.rglob("*.tmp")]
    assert second.orphans == 3
    assert [second.read(p) for p in second.files()] == [b"kept"]
    assert second.size_bytes == len(b"kept")
    assert Spool(folder).orphans == 0  # counted once, when found


def test_room_freed_by_replay_or_rejection_is_counted(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool", 3 * BODY)
    assert all(spool.append(b"x" * BODY) for _ in range(3))
    assert not spool.append(b"x")  # full
    first, second, _ = spool.files()
    spool.remove(first)  # replayed
    assert spool.append(b"y" * BODY)
    assert spool.replace(second, b"z" * (BODY // 2))  # half its events were taken
    assert spool.append(b"w" * (BODY // 2))
    assert not spool.append(b"v")
    assert spool.size_bytes == 3 * BODY == Spool(tmp_path / "spool", 3 * BODY).size_bytes


def test_two_processes_sharing_a_folder_share_one_byte_cap(tmp_path: Path) -> None:
    folder = tmp_path / "spool"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", FILLER, str(folder), str(CAP)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for proc in procs:  # both opened the spool while it was empty
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        # Opening the spool (which cleans crash leftovers) while both write must not
        # take a file from under a live writer: its append would fail and stop it early.
        deadline = time.monotonic() + 60
        while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
            assert Spool(folder, CAP).orphans == 0
        held = [int(p.communicate(timeout=60)[0]) for p in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    assert all(p.returncode == 0 for p in procs)
    spool = Spool(folder, CAP)
    assert spool.size_bytes <= CAP
    assert sum(held) == len(spool) == CAP // BODY  # together they filled it exactly once
