"""A durable FIFO of request bodies on local disk, for `HttpSink` while its collector is down.

One file per batch in one directory, named by time, pid and a counter so the
names sort in the order they were written. Each file is written to a
temporary name, fsynced and renamed into place, so a crash leaves either the
whole batch or nothing, never half a body. Replay removes a file only after
the collector accepted it; a crash between the two sends that batch again,
which the store drops as duplicates (event ids).

Several processes may share a directory (gunicorn workers with one spool):
each one's files sort among the others' by time, and a file two replayers
both sent is again only a duplicate.

The spool is bounded by `max_bytes`; past that new batches are refused (and
counted by the sink), the same rule as the in-memory queue: tracking never
fills a disk.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from pathlib import Path

__all__ = ["DEFAULT_SPOOL_BYTES", "Spool"]

DEFAULT_SPOOL_BYTES = 512 * 1024 * 1024  # ~ tens of millions of gzip'd events
_SUFFIX = ".batch"


class Spool:
    """Append bodies at the tail; read, remove or reject them from the head."""

    def __init__(self, path: str | os.PathLike[str], max_bytes: int = DEFAULT_SPOOL_BYTES) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.rejected_path = self.path / "rejected"
        self.max_bytes = max_bytes
        self._counter = itertools.count()
        self._lock = threading.Lock()
        self._bytes = sum(p.stat().st_size for p in self.files())

    def files(self) -> list[Path]:
        """Spooled batches, oldest first."""
        return sorted(p for p in self.path.iterdir() if p.name.endswith(_SUFFIX))

    def __len__(self) -> int:
        return len(self.files())

    def __bool__(self) -> bool:
        return any(p.name.endswith(_SUFFIX) for p in self.path.iterdir())

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def append(self, body: bytes) -> bool:
        """Durably add one body at the tail; False (nothing written) when the spool is full."""
        with self._lock:
            if self._bytes + len(body) > self.max_bytes:
                return False
            name = f"{time.time_ns():020d}-{os.getpid():07d}-{next(self._counter):09d}"
            tmp = self.path / f".{name}.tmp"
            with tmp.open("wb") as fh:
                fh.write(body)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path / f"{name}{_SUFFIX}")
            self._bytes += len(body)
            return True

    @staticmethod
    def read(path: Path) -> bytes | None:
        """A spooled body, or None if another process already replayed it."""
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None

    def remove(self, path: Path) -> None:
        """Forget a batch the collector accepted."""
        with self._lock:
            try:
                size = path.stat().st_size
                path.unlink()
            except FileNotFoundError:
                return
            self._bytes = max(0, self._bytes - size)

    def reject(self, path: Path, reason: str) -> None:
        """Move a batch the collector refused for good aside, with the reason beside it."""
        self.rejected_path.mkdir(exist_ok=True)
        target = self.rejected_path / path.name
        with self._lock:
            try:
                size = path.stat().st_size
                os.replace(path, target)
            except FileNotFoundError:
                return
            self._bytes = max(0, self._bytes - size)
        target.with_suffix(".reason").write_text(reason + "\n", encoding="utf-8")
