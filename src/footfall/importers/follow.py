"""`--follow`: a live log's new lines, through rotation (rename or copytruncate).

For sites that cannot add a script or a middleware: footfall reads the web
server's access log as it grows. The file is read from its start (lines an
earlier run imported are stored once, by their ids), then polled. Rotation
is noticed at the end of the data:

- **rename** (logrotate's default, then a signal that makes the server open
  a new file): the path names another file (another inode). What the old
  file still holds is read, then the new file from its start. Until the new
  file exists, the old one is watched;
- **copytruncate**: the bytes before the read position are no longer those
  read there (the file is shorter, or was refilled since). It is read again
  from its start. Lines written between logrotate's copy and its truncation
  are in neither file, a limit of copytruncate itself.

A line is handed over only once its line end is there; a partial last line
waits for the rest (or is dropped when the file is rotated or truncated
under it, as a server never leaves one).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from typing import IO

__all__ = ["POLL_SECONDS", "Follower"]

log = logging.getLogger("footfall.importers")

POLL_SECONDS = 0.5  # between looks at an idle file
READ_BYTES = 1024 * 1024  # read at most this much at a time
TAIL_BYTES = 64  # the last bytes read, compared before reading on


class Follower:
    """The lines of `path` as they are written, until `stop` is set.

    `batches()` yields lists of lines (without line ends); an empty list
    means the file is idle, the caller's moment to store what it holds.
    """

    def __init__(self, path: str, stop: threading.Event, *, poll: float = POLL_SECONDS) -> None:
        self.path = path
        self.stop = stop
        self.poll = poll
        self.rotations = 0
        self.truncations = 0

    def _open(self) -> IO[bytes] | None:
        try:
            return open(self.path, "rb")
        except FileNotFoundError:
            return None

    def batches(self) -> Iterator[list[str]]:
        f = self._open()
        if f is None:
            raise FileNotFoundError(self.path)
        pending = b""  # a partial last line
        tail = b""  # the last bytes read, to tell a file rewritten in place
        try:
            while not self.stop.is_set():
                if f is not None and tail and _rewritten(f, tail):
                    self.truncations += 1
                    log.info("footfall: %s was truncated; reading it from its start", self.path)
                    f.seek(0)
                    pending = tail = b""
                chunk = f.read(READ_BYTES) if f is not None else b""
                if chunk:
                    tail = (tail + chunk)[-TAIL_BYTES:]
                    pending += chunk
                    lines, pending = _split(pending)
                    if lines:
                        yield lines
                    continue
                if self._moved(f):
                    if f is not None:
                        # What the server wrote to the old file before reopening.
                        lines, _ = _split(pending + f.read())
                        if lines:
                            yield lines
                        f.close()
                    f, pending, tail = self._open(), b"", b""
                    continue
                yield []
                self.stop.wait(self.poll)
        finally:
            if f is not None:
                f.close()

    def _moved(self, f: IO[bytes] | None) -> bool:
        """Whether the path now names another file than `f` (a rename rotation)."""
        try:
            now = os.stat(self.path)
        except FileNotFoundError:
            return False  # renamed away, the new file not there yet: keep reading the old
        if f is not None:
            held = os.fstat(f.fileno())
            if (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino):
                return False
        self.rotations += 1
        log.info("footfall: %s was rotated; reading the new file", self.path)
        return True


def _rewritten(f: IO[bytes], tail: bytes) -> bool:
    """Whether the bytes before the read position are no longer the ones read there.

    A truncated file is shorter than the position, or, refilled faster than
    it was polled, holds other bytes there: either way it was truncated.
    """
    at = f.tell()
    if at < len(tail):
        return True
    return os.pread(f.fileno(), len(tail), at - len(tail)) != tail


def _split(data: bytes) -> tuple[list[str], bytes]:
    """The whole lines of `data`, decoded, and the partial line after them."""
    cut = data.rfind(b"\n")
    if cut < 0:
        return [], data
    text = data[:cut].decode("utf-8", "replace")
    return [line.rstrip("\r") for line in text.split("\n")], data[cut + 1 :]
