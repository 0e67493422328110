"""Blocks of a log read in order: here while the input is small, then by worker processes.

Parsing and per-event enrichment are pure Python and hold the GIL, so
threads would not help; processes do. Starting one costs about a second
(it loads the user-agent rules and the geo data), worth it only for a large
input, so the first `INLINE_BYTES` of an import are read in this process and
a pool of `workers` processes takes over past that. Results come back in the
order the blocks went out, whichever process read them, and are the same as
this process would have produced (`blocks.ReadSpec`), so the split changes
the speed of an import, never its result.

Workers ignore SIGINT: Ctrl-C reaches the importing process, which stops
handing out blocks, stores what came back and says so.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Generic, TypeVar

from footfall.importers.blocks import BlockReader, BlockResult, ReadSpec

__all__ = [
    "BULK_GC_THRESHOLDS",
    "INLINE_BYTES",
    "BlockPool",
    "default_workers",
    "fewer_collections",
]

INLINE_BYTES = 16 * 1024 * 1024  # read in this process before starting workers
# The garbage collector's thresholds while importing: a block makes hundreds of
# thousands of short-lived tuples, and at the default (700) the young
# generation is scanned every few lines: half the visits step's time.
BULK_GC_THRESHOLDS = (50_000, 20, 100)
MAX_WORKERS = 4  # past this, the importing process's own share is the limit

T = TypeVar("T")

_reader: BlockReader | None = None  # a worker process's reader


def default_workers() -> int:
    """One worker per CPU this process may use, at most `MAX_WORKERS`; none on one CPU.

    As many workers as CPUs, not one fewer: the importing process mostly waits
    for their blocks, and its writer thread waits on SQLite without the GIL
    (on 2 CPUs, 2 workers imported 1.5x faster than 1; bench/bench_import.py).
    """
    affinity = getattr(os, "sched_getaffinity", None)
    cpus = len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)
    return 0 if cpus < 2 else min(MAX_WORKERS, cpus)


def _start(spec: ReadSpec) -> None:
    global _reader
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.set_threshold(*BULK_GC_THRESHOLDS)  # this process only reads blocks
    _reader = BlockReader(spec)


def _read(block: bytes) -> BlockResult:
    assert _reader is not None, "worker not initialised"
    return _reader.read_block(block).pack()


class BlockPool(Generic[T]):
    """Hands out blocks, each with a tag of the caller's, and returns results in order."""

    def __init__(self, reader: BlockReader, workers: int) -> None:
        self.reader = reader
        self.workers = max(0, workers)
        self._inline_left = INLINE_BYTES
        self._pool: ProcessPoolExecutor | None = None
        self._pending: deque[tuple[T, Future[BlockResult] | BlockResult]] = deque()

    @property
    def started(self) -> bool:
        """Whether worker processes are reading."""
        return self._pool is not None

    def expect(self, size: int) -> None:
        """An input of `size` bytes comes: start the workers now if it will need them,
        so they load their rules while this process reads the first blocks."""
        if size > self._inline_left:
            self._start()

    def _start(self) -> None:
        if self._pool is not None or not self.workers:
            return
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=(self.reader.spec,),
        )
        for _ in range(self.workers):
            self._pool.submit(int)  # start every worker now, not one per block

    def submit(self, tag: T, block: bytes) -> list[tuple[T, BlockResult]]:
        """Read `block` (here or in a worker); return the results now ready, in order."""
        if self._inline_left > 0 or not self.workers:
            self._inline_left -= len(block)
            self._pending.append((tag, self.reader.read_block(block)))
        else:
            self._start()
            assert self._pool is not None
            self._pending.append((tag, self._pool.submit(_read, block)))
        ready: list[tuple[T, BlockResult]] = []
        limit = 2 * self.workers + 1 if self._pool is not None else 0
        while len(self._pending) > limit:
            ready.append(self._next())
        return ready

    def _next(self) -> tuple[T, BlockResult]:
        tag, item = self._pending.popleft()
        return tag, item.result() if isinstance(item, Future) else item

    def drain(self) -> list[tuple[T, BlockResult]]:
        """Every result still out, in order."""
        return [self._next() for _ in range(len(self._pending))]

    def close(self, *, cancel: bool = False) -> None:
        """Stop the workers (dropping blocks not read yet when `cancel`)."""
        if cancel:
            self._pending.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=cancel)
            self._pool = None


@contextmanager
def fewer_collections() -> Iterator[None]:
    """`BULK_GC_THRESHOLDS` for the length of an import in this process, then as before.

    For a process that does nothing else meanwhile (the command line): the
    thresholds are the interpreter's, not the import's.
    """
    before = gc.get_threshold()
    gc.set_threshold(*BULK_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)
