"""A durable FIFO of request bodies on local disk, for `HttpSink` while its collector is down.

One file per batch in one directory, named by time, pid and a counter so the
names sort in the order they were written. Each file is written to a
temporary name, fsynced, renamed into place, and then the directory itself is
fsynced: without that last step the rename lives only in the page cache, and
a power cut can lose a batch the sink already counted as held. So a crash
leaves either the whole batch or nothing, never half a body. Replay removes a
file only after the collector accepted it; a crash between the two sends that
batch again, which the store drops as duplicates (event ids).

Several processes may share a directory (gunicorn workers with one spool).
Every change to the folder (append, rewrite, set aside, clean-up) happens
under an `flock` on `<dir>/.lock`, which the kernel releases when a process
dies, so:

* the byte cap is the folder's, not each process's: the lock file also
  holds the folder's size, which every change updates under the lock, so N
  processes together never hold more than `max_bytes`. Reading the size from
  the disk instead costs a `stat` per spooled file on every append (0.1-0.6 s
  with 6,000 files, against 7 ms for the append itself), so it is done once,
  when a process opens the spool; that also corrects what a crash between a
  change and its count, or a file removed by hand, left behind.
* a `.tmp` file seen while holding the lock belongs to no live writer: it is
  what a crash mid-write left behind. Opening a spool removes those and
  counts them (`orphans`), so they neither leak disk nor hide from the cap.

Reads need no lock: each process's files sort among the others' by time, and
a file two replayers both sent is again only a duplicate.

The spool is bounded by `max_bytes` (pending batches plus those set aside in
`rejected/`): past that, or when the disk itself is full, `append` refuses
and the sink reports the batch as failed. Tracking never fills a disk.
"""

from __future__ import annotations

import errno
import fcntl
import itertools
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["DEFAULT_SPOOL_BYTES", "Spool"]

DEFAULT_SPOOL_BYTES = 512 * 1024 * 1024  # ~ tens of millions of gzip'd events
_SUFFIX = ".batch"
_TMP = ".tmp"
_LOCK = ".lock"  # the flock, and the folder's size in bytes as 20 digits
_SIZE_WIDTH = 20
# fsync of a directory is not supported everywhere (some FUSE and network file
# systems); there the rename is as durable as the file system makes it.
_NO_DIR_FSYNC = frozenset({errno.EINVAL, errno.ENOTSUP, errno.EBADF, errno.EISDIR})

log = logging.getLogger("footfall.delivery")


def _fsync_dir(path: Path) -> None:
    """Make the renames and unlinks in `path` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in _NO_DIR_FSYNC:
            raise
    finally:
        os.close(fd)


def _write_durably(tmp: Path, body: bytes) -> None:
    """Write `body` to `tmp` and fsync it; on any error leave no `tmp` behind."""
    try:
        with tmp.open("xb") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:  # replayed by another process meanwhile
        return 0


class Spool:
    """Append bodies at the tail; read, remove, rewrite or reject them from the head."""

    def __init__(self, path: str | os.PathLike[str], max_bytes: int = DEFAULT_SPOOL_BYTES) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.rejected_path = self.path / "rejected"
        self.max_bytes = max_bytes
        self.refused = 0  # appends refused: cap reached, or the disk failed
        self._counter = itertools.count()
        self._lock = threading.Lock()  # flock is per open file: threads queue here first
        self.orphans = self._clean_orphans()  # partial batches a crash left, removed

    # -- the folder lock and the folder's size ---------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[int | None]:
        """Hold this folder against every thread and process that shares it.

        Yields the lock file's descriptor (None when it cannot be opened: a
        read-only folder, where nothing will be written anyway).
        """
        with self._lock:
            fd: int | None = None
            try:
                fd = os.open(self.path / _LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError as exc:
                log.debug("footfall: spool lock %s unavailable: %s", self.path / _LOCK, exc)
            try:
                yield fd
            finally:
                if fd is not None:
                    os.close(fd)  # releases the flock

    def _scan(self) -> int:
        """Bytes the folder holds, read from the disk: pending batches plus rejected ones."""
        total = sum(_size(p) for p in self.files())
        if self.rejected_path.is_dir():
            total += sum(_size(p) for p in self.rejected_path.iterdir())
        return total

    def _held(self, fd: int | None) -> int:
        """The folder's size as counted in the lock file (scanned if it holds no count)."""
        if fd is not None:
            raw = os.pread(fd, _SIZE_WIDTH, 0)
            if len(raw) == _SIZE_WIDTH and raw.isdigit():
                return int(raw)
        return self._scan()

    @staticmethod
    def _count(fd: int | None, size: int) -> None:
        """Record the folder's size; in place, so a full disk has no block to refuse."""
        if fd is None:
            return
        try:
            os.pwrite(fd, b"%0*d" % (_SIZE_WIDTH, max(0, size)), 0)
        except OSError as exc:  # the first count on a full disk: the next open scans again
            log.debug("footfall: spool size not recorded: %s", exc)

    def _clean_orphans(self) -> int:
        with self._locked() as fd:
            found = [p for p in self.path.iterdir() if p.name.endswith(_TMP)]
            if self.rejected_path.is_dir():
                found += [p for p in self.rejected_path.iterdir() if p.name.endswith(_TMP)]
            lost = 0
            for path in found:
                lost += _size(path)
                try:
                    path.unlink(missing_ok=True)
                except OSError as exc:  # a read-only folder: counted, left in place
                    log.error("footfall: spool %s: cannot remove %s: %s", self.path, path, exc)
            self._count(fd, self._scan())  # what the disk says, whatever a crash left
        if found:
            log.warning(
                "footfall: spool %s: removed %d partial batch files (%d bytes) left by a crash",
                self.path,
                len(found),
                lost,
            )
        return len(found)

    # -- reading ----------------------------------------------------------------------
    def files(self) -> list[Path]:
        """Spooled batches, oldest first."""
        return sorted(p for p in self.path.iterdir() if p.name.endswith(_SUFFIX))

    def __len__(self) -> int:
        return len(self.files())

    def __bool__(self) -> bool:
        return any(p.name.endswith(_SUFFIX) for p in self.path.iterdir())

    @property
    def size_bytes(self) -> int:
        """Bytes this folder holds for every process: pending batches plus rejected ones."""
        with self._locked() as fd:
            return self._held(fd)

    @staticmethod
    def read(path: Path) -> bytes | None:
        """A spooled body, or None if another process already replayed it."""
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None

    # -- writing ----------------------------------------------------------------------
    def _name(self) -> str:
        return f"{time.time_ns():020d}-{os.getpid():07d}-{next(self._counter):09d}"

    def append(self, body: bytes) -> Path | None:
        """Durably add one body at the tail; its file, or None (nothing written) when
        full or failing."""
        try:
            with self._locked() as fd:
                held = self._held(fd)
                if held + len(body) > self.max_bytes:
                    self.refused += 1
                    return None
                name = self._name()
                tmp = self.path / f".{name}{_TMP}"
                final = self.path / f"{name}{_SUFFIX}"
                _write_durably(tmp, body)
                os.replace(tmp, final)
                try:
                    _fsync_dir(self.path)
                except OSError:
                    final.unlink(missing_ok=True)  # not durable: refuse rather than half-hold it
                    raise
                self._count(fd, held + len(body))
                return final
        except OSError as exc:  # ENOSPC, EDQUOT, EIO: the caller reports the batch
            self.refused += 1
            log.error("footfall: spool %s cannot take a batch: %s", self.path, exc)
            return None

    def replace(self, path: Path, body: bytes) -> bool:
        """Rewrite a batch in place with fewer events, keeping its turn at the head.

        False when it could not be written (the old body stays, which is only
        resent in full: duplicates are dropped by id) or when another process
        already replayed and removed it.
        """
        try:
            with self._locked() as fd:
                old = _size(path)
                if not old:  # replayed and removed by another process
                    return False
                tmp = self.path / f".{self._name()}{_TMP}"
                _write_durably(tmp, body)
                os.replace(tmp, path)
                _fsync_dir(self.path)
                self._count(fd, self._held(fd) - old + len(body))
                return True
        except OSError as exc:
            log.error("footfall: spool %s: could not rewrite %s: %s", self.path, path.name, exc)
            return False

    def remove(self, path: Path) -> None:
        """Forget a batch the collector accepted.

        No directory fsync: a removal undone by a power cut only sends the
        batch again, and the store drops the duplicates.
        """
        with self._locked() as fd:
            size = _size(path)
            try:
                path.unlink()
            except FileNotFoundError:  # another replayer was first
                return
            self._count(fd, self._held(fd) - size)

    def reject(self, path: Path, reason: str) -> None:
        """Move a batch the collector refused for good aside, with the reason beside it."""
        with self._locked() as fd:
            self.rejected_path.mkdir(exist_ok=True)
            target = self.rejected_path / path.name
            try:
                os.replace(path, target)
            except FileNotFoundError:
                return
            self._count(fd, self._held(fd) + self._note_reason(target, reason))

    def reject_body(self, name: str, body: bytes, reason: str) -> bool:
        """Set aside part of a batch (the events the collector refused) under `name`."""
        try:
            with self._locked() as fd:
                self.rejected_path.mkdir(exist_ok=True)
                target = self.rejected_path / f"{name}{_SUFFIX}"
                tmp = self.rejected_path / f".{self._name()}{_TMP}"
                _write_durably(tmp, body)
                os.replace(tmp, target)
                added = len(body) + self._note_reason(target, reason)
                self._count(fd, self._held(fd) + added)
                return True
        except OSError as exc:
            log.error("footfall: spool %s: could not set aside %s: %s", self.path, name, exc)
            return False

    @staticmethod
    def _note_reason(target: Path, reason: str) -> int:
        """Write the reason beside a rejected batch; the bytes it took."""
        text = (reason + "\n").encode("utf-8", "replace")
        try:
            target.with_suffix(".reason").write_bytes(text)
        except OSError as exc:  # a full disk: the batch is aside, its reason is logged
            log.error("footfall: could not write the reason for %s: %s", target, exc)
            return 0
        return len(text)
