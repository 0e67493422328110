"""Where log lines come from: files (gzip read as is, by its magic bytes) or stdin.

Rotated logs are usually given as a glob (`access.log*`), which the shell
sorts newest first (`access.log`, `access.log.1`, `access.log.2.gz`). Visits
are computed in time order, so `ordered` reads each file's first timestamp
and puts the oldest first. Lines are decoded as UTF-8 with invalid bytes
replaced: a log is text from the network, and one bad byte must not cost the
line.
"""

from __future__ import annotations

import gzip
import os
import sys
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import IO, Any

from footfall.importers.logline import BadLine, Request

__all__ = ["BLOCK_BYTES", "STDIN", "Input", "first_time", "ordered"]

STDIN = "-"
_GZIP_MAGIC = b"\x1f\x8b"
_PEEK_LINES = 100  # lines read to find a file's first timestamp
BLOCK_BYTES = 2 * 1024 * 1024  # a block is what one worker reads at a time
CHUNK_BYTES = 256 * 1024  # read at a time into a block


class Input:
    """One input: its text lines, and how many bytes of it (on disk) are read."""

    def __init__(self, name: str, *, stdin: IO[bytes] | None = None) -> None:
        self.name = name
        if name == STDIN:
            raw: Any = stdin if stdin is not None else sys.stdin.buffer
            self.size: int | None = None
            self._owned = False
        else:
            raw = open(name, "rb")
            self.size = os.fstat(raw.fileno()).st_size
            self._owned = True
        self._raw = raw
        binary: Any = raw
        if _peek(raw, 2) == _GZIP_MAGIC:
            binary = gzip.GzipFile(fileobj=raw, mode="rb")
        self._binary = binary
        self.error = ""  # why reading stopped before the end, if it did

    @property
    def label(self) -> str:
        return "stdin" if self.name == STDIN else self.name

    def position(self) -> int:
        """Bytes of the file (compressed, for gzip) consumed so far."""
        try:
            return int(self._raw.tell())
        except (OSError, ValueError):
            return 0

    def blocks(self, size: int | None = None) -> Iterator[bytes]:
        """The input in blocks of about `size` (`BLOCK_BYTES`) bytes, each ending at a line end.

        Read a chunk at a time, so a gzip file cut short (still being written,
        copied half-way) gives every whole line before the cut; `error` then
        says why it stopped.
        """
        read = self._binary.read
        size = size or BLOCK_BYTES
        parts: list[bytes] = []
        have = 0
        while True:
            try:
                chunk = read(CHUNK_BYTES)
            except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
                self.error = str(exc) or type(exc).__name__
                data = b"".join(parts)
                whole = data[: data.rfind(b"\n") + 1]  # the line being cut is lost
                if whole:
                    yield whole
                return
            if chunk:
                parts.append(chunk)
                have += len(chunk)
                if have < size:
                    continue
            data = b"".join(parts)
            if not chunk:  # the end: the last line may lack its line end
                if data:
                    yield data
                return
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                continue  # one line longer than a block: read on
            yield data[:cut]
            parts, have = [data[cut:]], len(data) - cut

    def lines(self) -> Iterator[str]:
        """The lines, decoded, without their line ends."""
        for raw in self._binary:
            yield raw.decode("utf-8", "replace").rstrip("\r\n")

    def close(self) -> None:
        if self._binary is not self._raw:
            self._binary.close()  # a GzipFile: leaves the file it reads open
        if self._owned:
            self._raw.close()

    def __enter__(self) -> Input:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _peek(raw: Any, n: int) -> bytes:
    """The first `n` bytes without consuming them (stdin cannot seek back)."""
    peek = getattr(raw, "peek", None)
    if peek is not None:
        return bytes(peek(n)[:n])
    start = raw.tell()
    head = bytes(raw.read(n))
    raw.seek(start)
    return head


def first_time(name: str, parse: Callable[[str], Request]) -> datetime | None:
    """The time of the first parseable line among a file's first lines, if any."""
    with Input(name) as source:
        for i, line in enumerate(source.lines()):
            if i >= _PEEK_LINES:
                break
            try:
                return parse(line).ts
            except BadLine:
                continue
    return None


def ordered(names: list[str], parse: Callable[[str], Request]) -> list[str]:
    """The inputs oldest first by their first timestamp; as given when stdin is one."""
    if STDIN in names or len(names) < 2:
        return list(names)
    last = datetime.max.replace(tzinfo=None)
    keyed = []
    for index, name in enumerate(names):
        try:
            ts = first_time(name, parse)
        except (OSError, EOFError, zlib.error):
            ts = None  # reading it for real says why
        keyed.append(((ts.replace(tzinfo=None) if ts else last), index, name))
    return [name for _, _, name in sorted(keyed)]
