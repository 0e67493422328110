"""`--follow`: a live log's new lines, through rotation (rename or copytruncate).

For sites that cannot add a script or a middleware: footfall reads the web
server's access log as it grows. The file is read from its start (lines an
earlier run imported are stored once, by their ids), then polled. Rotation
is noticed at the end of the data:

- **rename** (logrotate's default, then a signal that makes the server open
  a new file): the path names another file (another inode). What the old
  file still holds is read, then the new file from its start. Until the new
  file exists, the old one is watched;
- **copytruncate**: the same file became shorter than what was read. It is
  read again from its start. Lines written between logrotate's copy and its
  truncation are in neither, a limit of copytruncate itself.

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
        try:
            while not self.stop.is_set():
                chunk = f.read(READ_BYTES) if f is not None else b""
                if chunk:
                    pending += chunk
                    lines, pending = _split(pending)
                    if lines:
                        yield lines
                    continue
                state = self._state(f)
                if state == "truncated":
                    assert f is not None
                    f.seek(0)
                    pending = b""
                elif state == "moved":
                    if f is not None:
                        # What the server wrote to the old file before reopening.
                        lines, _ = _split(pending + f.read())
                        if lines:
                            yield lines
                        f.close()
                    f, pending = self._open(), b""
                else:
                    yield []
                    self.stop.wait(self.poll)
        finally:
            if f is not None:
                f.close()

    def _state(self, f: IO[bytes] | None) -> str:
        """ "moved", "truncated" or "same", at the end of the data of `f`."""
        try:
            now = os.stat(self.path)
        except FileNotFoundError:
            return "same"  # renamed away, the new file not there yet: keep reading the old
        if f is None:
            self.rotations += 1
            return "moved"
        held = os.fstat(f.fileno())
        if (now.st_dev, now.st_ino) != (held.st_dev, held.st_ino):
            self.rotations += 1
            log.info("footfall: %s was rotated; reading the new file", self.path)
            return "moved"
        if now.st_size < f.tell():
            self.truncations += 1
            log.info("footfall: %s was truncated; reading it from its start", self.path)
            return "truncated"
        return "same"


def _split(data: bytes) -> tuple[list[str], bytes]:
    """The whole lines of `data`, decoded, and the partial line after them."""
    cut = data.rfind(b"\n")
    if cut < 0:
        return [], data
    text = data[:cut].decode("utf-8", "replace")
    return [line.rstrip("\r") for line in text.split("\n")], data[cut + 1 :]
