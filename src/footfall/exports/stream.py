"""An export from end to end: a store's events, chunk by chunk, into one file.

The store reads the events' rows in chunks by keyset (`Store.iter_rows`), and
each chunk is written and dropped before the next is read, so the memory
an export needs is one chunk's, for a thousand events or ten million. A
file name ending in `.gz` is gzip'd as it is written; `-` is stdout.
"""

from __future__ import annotations

import gzip
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import IO, cast

from footfall.exports.formats import writer_for
from footfall.stores.base import Store

__all__ = ["CHUNK", "ExportReport", "export_events", "open_output"]

CHUNK = 10_000  # events per read and per Parquet row group
GZIP_LEVEL = 6  # gzip's own default: most of the gain at a third of level 9's time


@dataclass
class ExportReport:
    events: int = 0
    chunks: int = 0


@contextmanager
def open_output(path: str) -> Iterator[IO[bytes]]:
    """The binary file to write: `path` (gzip'd when it ends in `.gz`), or stdout for `-`."""
    gz = path.endswith(".gz")
    if path == "-":
        raw: IO[bytes] = sys.stdout.buffer
        yield raw
        raw.flush()
        return
    with open(path, "wb") as raw:
        if not gz:
            yield raw
            return
        with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=GZIP_LEVEL, mtime=0) as zipped:
            yield cast(IO[bytes], zipped)


def export_events(
    store: Store,
    out: IO[bytes],
    fmt: str = "jsonl",
    *,
    site: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    chunk: int = CHUNK,
    limit: int | None = None,
    progress: Callable[[ExportReport], None] | None = None,
) -> ExportReport:
    """Write the events of `site` (None: every site) with start <= ts < end to `out`
    in `fmt` ("jsonl", "csv", "parquet"), ordered by site, time and id; the first
    `limit` of them only, if given."""
    writer = writer_for(fmt, out)
    report = ExportReport()
    if limit is not None:
        chunk = max(1, min(chunk, limit))
    for rows in store.iter_rows(site, start, end, chunk):
        if limit is not None:
            rows = rows[: limit - report.events]
        writer.write(rows)
        report.events += len(rows)
        report.chunks += 1
        if progress is not None:
            progress(report)
        if limit is not None and report.events >= limit:
            break
    writer.close()
    return report
