"""`footfall import log`: access-log lines -> events -> the store, as fast as it goes.

The steps, and where each runs:

1. `sources.Input` cuts each input (file, gzip, stdin) into blocks of whole
   lines;
2. `pool.BlockPool` has each block read by `blocks.BlockReader`: parse
   (`logformat`), classify and build events (`logevents`), enrich with the
   per-event part of the default processor chain. The first blocks are read
   here, later ones by worker processes when `workers` allows;
3. here, in input order: identical lines get their own ids (`_renumber`),
   then the rest of the chain (visits, visit plugins, privacy) runs over
   each batch of `batch_size` events;
4. a writer thread stores each batch while the next one is read (`_Writer`).

Ids come from the lines and the store's import secret (`ids.py`), so running
the same import again stores nothing twice: the store reports how many
events were new. Visits are computed in this process across every input of
one run, in the order given (`sources.ordered` puts files oldest first).
"""

from __future__ import annotations

import logging
import queue
import secrets
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from footfall.event import Event
from footfall.importers.blocks import BlockReader, BlockResult, ReadSpec
from footfall.importers.ids import import_secret
from footfall.importers.logevents import NOT_PAGES
from footfall.importers.pool import BlockPool
from footfall.importers.sources import Input
from footfall.processors import run_chain
from footfall.processors.privacy import IpMode
from footfall.stores.base import Store

# NOT_PAGES: what a page is not, shared with the other importers (`logevents.py`).
__all__ = ["BAD_SAMPLES", "BATCH_SIZE", "NOT_PAGES", "ImportReport", "LogImporter"]

log = logging.getLogger("footfall.importers")

BATCH_SIZE = 20_000  # events per store write: large, since nobody waits on a request
BAD_SAMPLES = 5  # bad lines kept for the report
SAME_LINE_WINDOW = 65_536  # recent distinct lines among which identical ones are told apart


@dataclass
class ImportReport:
    """What an import read, stored and skipped, and why."""

    lines: int = 0
    blank: int = 0
    bad: int = 0
    bad_samples: list[tuple[str, int, str, str]] = field(default_factory=list)
    stored: int = 0  # events handed to the store
    new: int = 0  # of which it did not hold yet
    pageviews: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def already(self) -> int:
        """Events the store already held (an earlier import of the same lines)."""
        return self.stored - self.new


class _Writer:
    """Writes batches on one thread while the caller reads and enriches the next.

    SQLite does its part of an insert with the GIL released, so the two
    overlap. One batch waits at most (a queue of one): memory stays at two
    batches. A store that is not thread-safe is written inline.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.new = 0
        self._error: BaseException | None = None
        self._queue: queue.Queue[list[Event] | None] = queue.Queue(maxsize=1)
        self._thread: threading.Thread | None = None
        if store.threadsafe:
            self._thread = threading.Thread(
                target=self._run, name="footfall-import-writer", daemon=True
            )
            self._thread.start()

    def submit(self, events: list[Event]) -> None:
        self._raise()
        if self._thread is None:
            self.new += self.store.write(events)
        else:
            self._queue.put(events)

    def _run(self) -> None:
        while True:
            events = self._queue.get()
            if events is None:
                return
            if self._error is not None:
                continue  # drain: the caller sees the error and stops
            try:
                self.new += self.store.write(events)
            except BaseException as exc:
                self._error = exc

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def close(self) -> None:
        """Wait until every batch handed over is written; raise a store error if one came."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        self._raise()


class LogImporter:
    """Imports the lines of one or more logs into `store`; `report` counts.

    `read(input)` for each input in time order (or `feed(lines)` for lines
    at hand, as `--follow` has them), then `close()`. `secret` overrides the
    store's import secret (tests); without either (a store that keeps no
    processor state), ids are random per run and a re-import stores the
    lines again, which is logged. `workers` is how many worker processes
    may read blocks of a large input (0: all here).
    """

    def __init__(
        self,
        store: Store,
        *,
        format_name: str = "combined",
        log_format: str | None = None,
        site: str | None = None,
        keep_requests: bool = False,
        ip: IpMode = "drop",
        geoip_db: str | None = None,
        batch_size: int = BATCH_SIZE,
        secret: bytes | None = None,
        workers: int = 0,
    ) -> None:
        self.store = store
        if secret is None:
            secret = import_secret(store)
        if secret is None:
            log.warning(
                "footfall: %r keeps no processor state, so imported ids are random: "
                "importing the same lines again will store them again",
                store,
            )
            secret = secrets.token_bytes(32)
        spec = ReadSpec(
            secret,
            format_name=format_name,
            log_format=log_format,
            site=site or "",
            keep_requests=keep_requests,
            ip=ip,
            geoip_db=geoip_db,
        )
        self.reader = BlockReader(spec)  # compiles the format: a bad one fails here
        self.ids = self.reader.ids
        self.batch_size = max(1, batch_size)
        self.report = ImportReport()
        self._pool: BlockPool[str] = BlockPool(self.reader, workers)
        self._writer = _Writer(store)
        self._batch: list[Event] = []
        self._lines_of: Counter[str] = Counter()  # lines taken per input, for line numbers
        self._seen: dict[str, int] = {}  # first id of a line -> repeats so far
        self._order: deque[str] = deque()

    @property
    def parallel(self) -> bool:
        """Whether worker processes are reading blocks."""
        return self._pool.started

    # -- inputs ----------------------------------------------------------------
    def read(self, source: Input, progress: Callable[[], None] | None = None) -> None:
        """Import one input, block by block; `progress` is called after each block."""
        self._pool.expect(source.size or 0)
        for block in source.blocks():
            for label, result in self._pool.submit(source.label, block):
                self._take(label, result)
            if progress is not None:
                progress()

    def feed(self, lines: Iterable[str], label: str = "") -> None:
        """Import lines at hand (without line ends), here, after everything read before."""
        for tag, result in self._pool.drain():
            self._take(tag, result)
        self._take(label, self.reader.read_lines(list(lines)))

    def _take(self, label: str, result: BlockResult) -> None:
        report = self.report
        first_line = self._lines_of[label]
        self._lines_of[label] += result.lines
        report.lines += result.lines
        report.blank += result.blank
        report.bad += result.bad
        report.skipped.update(result.skipped)
        for index, reason, text in result.bad_samples:
            if len(report.bad_samples) < BAD_SAMPLES:
                report.bad_samples.append((label, first_line + index + 1, reason, text))
        events = result.unpacked()
        if events:
            self._renumber(events)
            self._batch.extend(events)
            if len(self._batch) >= self.batch_size:
                self._write()

    def _renumber(self, events: list[Event]) -> None:
        """Give the 2nd, 3rd, ... of identical lines ids of their own.

        Identical lines carry the same time, so they come close together;
        the last `SAME_LINE_WINDOW` distinct lines are remembered.
        """
        seen, order = self._seen, self._order
        for event in events:
            first = event.id
            n = seen.get(first, 0)
            seen[first] = n + 1
            if n:
                event.id = self.ids.repeat_id(first, n, int(event.ts.timestamp() * 1000))
            else:
                order.append(first)
                if len(order) > SAME_LINE_WINDOW:
                    del seen[order.popleft()]

    # -- events -> store -------------------------------------------------------
    def _write(self) -> None:
        batch, self._batch = self._batch, []
        if not batch:
            return
        events = run_chain(self.reader.suffix, batch)
        report = self.report
        report.stored += len(events)
        report.pageviews += sum(1 for e in events if e.name == "pageview")
        self._writer.submit(events)

    def flush(self) -> None:
        """Hand everything read so far to the store (the end of an input, a timer)."""
        for label, result in self._pool.drain():
            self._take(label, result)
        self._write()

    def abort(self) -> None:
        """Stop without storing what is still in hand (an error is on its way up)."""
        self._batch = []
        self._pool.close(cancel=True)
        try:
            self._writer.close()
        except Exception:
            log.debug("footfall: the store failed too while stopping", exc_info=True)
        self.report.new = self._writer.new

    def close(self, *, interrupted: bool = False) -> None:
        """Store what was read and wait for the store; stop the workers.

        `interrupted` (Ctrl-C) drops blocks the workers have not read yet:
        everything taken so far is stored, and running the import again
        goes on from there.
        """
        try:
            if interrupted:
                self._pool.close(cancel=True)
            self.flush()
        finally:
            self._pool.close()
            self._writer.close()
            self.report.new = self._writer.new
