"""A writer lock beside a SQLite file, so waiting writers wake when it frees.

SQLite lets one writer in at a time and makes the others wait in its busy
handler, which sleeps in growing steps (1, 2, 5, ... 25, 50, 100 ms). With
two `footfall serve` workers writing batches that each hold the lock for a
few milliseconds, a writer often sleeps 25-100 ms for a lock that was free
after 5: measured, the two processes together stored little more than one.
Taking an advisory `flock` on `<db>.lock` before `BEGIN IMMEDIATE` puts the
waiting in our hands: a writer polls the lock every fraction of a millisecond
and goes as soon as it is free. Threads of one process queue on a
`threading.Lock` first (an `flock` is held per open file, not per thread).

Advisory only: a program that writes without it (the sqlite3 shell) still
gets SQLite's own locking, which stays the source of truth. If the lock file
cannot be opened (a read-only folder), writes go on without it. After the
patience runs out the writer goes ahead without the lock and lets SQLite
decide, so a stuck process cannot hang the others forever.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["WriterLock"]

FIRST_POLL = 0.0002  # seconds between the first looks at a held lock
MAX_POLL = 0.002  # the longest pause between looks


class WriterLock:
    """Cross-process (flock) and cross-thread mutual exclusion for writers of one file."""

    def __init__(self, db_path: str, patience: float) -> None:
        self.path = db_path + ".lock"
        self.patience = patience
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        self._pid = -1

    def _file(self) -> int | None:
        if self._pid != os.getpid():  # a forked child must not share the parent's lock
            self._fd, self._pid = None, os.getpid()
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError:
                return None
        return self._fd

    def _acquire(self, fd: int) -> bool:
        deadline = time.monotonic() + self.patience
        pause = FIRST_POLL
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(pause)
                pause = min(pause * 2, MAX_POLL)
            except OSError:
                return False  # no flock here (some network file systems)

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Hold the writer lock for the block (re-entrant within a thread)."""
        with self._thread_lock:
            locked = False
            if self._depth == 0:
                fd = self._file()
                locked = fd is not None and self._acquire(fd)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if locked and self._fd is not None:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        with self._thread_lock:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None
