"""Core delivery: `Tracker.emit` cost, and end-to-end events/s into SQLite.

The core rows write raw events only; a last row adds folding them into the
stats summaries (`footfall.stats.summaries.catchup.catch_up`, which `footfall serve`
runs in the background) inside the timed window.

End-to-end is timed from the first emit to the end of `flush()`: the calling
thread emits while the worker batches, encodes and writes. The raw ceiling is
`sqlite3.executemany` of the very same rows into an identical table with the
same pragmas and the same batch size, measured in the same run.
"""

from __future__ import annotations

import sqlite3
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from footfall import Event, StoreSink, Tracker, connect
from footfall.stores.rows import COLUMNS, row_encoder

BATCH = 1000


class NullSink:
    def write(self, events: Sequence[Event]) -> None:
        pass

    def close(self) -> None:
        pass


def _emit_cost(n: int, repeats: int) -> float:
    t = Tracker([NullSink()], site="bench.example", queue_size=n + 10)
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _i in range(n):
            t.emit("pageview", url="https://bench.example/p", path="/p", user_id="u1")
        samples.append((time.perf_counter() - start) / n * 1e6)
        t.flush(60)
    t.close()
    return statistics.median(samples)


def _emit_props_cost(n: int, repeats: int) -> float:
    t = Tracker([NullSink()], site="bench.example", queue_size=n + 10)
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for i in range(n):
            t.emit("signup", {"plan": "pro", "step": i}, path="/signup")
        samples.append((time.perf_counter() - start) / n * 1e6)
        t.flush(60)
    t.close()
    return statistics.median(samples)


def _end_to_end(n: int, folder: Path, run: int, summaries: bool = False) -> float:
    store = connect(f"sqlite:///{folder / f'e2e{run}{summaries}.db'}")
    # No processors: the delivery pipeline itself (bench_processors measures the chain).
    t = Tracker([StoreSink(store)], [], site="bench.example", queue_size=n + 10, batch_size=BATCH)
    start = time.perf_counter()
    for i in range(n):
        t.emit("pageview", {"i": i}, url="https://bench.example/p", path="/p", visitor_id="v")
    t.flush(600)
    if summaries:
        from footfall.stats.summaries.catchup import catch_up, lag

        catch_up(store)
        assert lag(store) == 0, "catch-up left events unfolded"
    elapsed = time.perf_counter() - start
    assert store.count() == n, "end-to-end lost events"
    t.close()
    return n / elapsed


def _built_events(n: int) -> list[Event]:
    """The rows the worker-only run and the raw ceiling both write."""
    return [
        Event(
            name="pageview",
            site="bench.example",
            url="https://bench.example/p",
            path="/p",
            visitor_id="v",
            props={"i": i},
        )
        for i in range(n)
    ]


def _worker_only(n: int, folder: Path, run: int) -> float:
    events = _built_events(n)
    store = connect(f"sqlite:///{folder / f'worker{run}.db'}")
    t = Tracker([StoreSink(store)], [], queue_size=n + 10, batch_size=BATCH)
    start = time.perf_counter()
    for ev in events:
        t.send(ev)
    t.flush(600)
    elapsed = time.perf_counter() - start
    assert store.count() == n, "worker lost events"
    t.close()
    return n / elapsed


def _raw_ceiling(n: int, folder: Path, run: int) -> float:
    events = _built_events(n)
    encode = row_encoder()
    rows = [encode(e) for e in events]
    store = connect(f"sqlite:///{folder / f'raw{run}.db'}")  # same schema and indexes
    store.close()
    conn = sqlite3.connect(folder / f"raw{run}.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    sql = (
        f"INSERT OR IGNORE INTO events ({', '.join(COLUMNS)}) "
        f"VALUES ({', '.join('?' for _ in COLUMNS)})"
    )
    start = time.perf_counter()
    for i in range(0, n, BATCH):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(sql, rows[i : i + BATCH])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return n / elapsed


def run(quick: bool) -> list[dict[str, Any]]:
    n_emit = 20_000 if quick else 100_000
    n_e2e = 50_000 if quick else 200_000
    repeats = 3 if quick else 5
    emit_us = _emit_cost(n_emit, repeats)
    emit_props_us = _emit_props_cost(n_emit, repeats)
    e2e, raw, worker, summarised = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for r in range(repeats):
            raw.append(_raw_ceiling(n_e2e, folder, r))
            e2e.append(_end_to_end(n_e2e, folder, r))
            worker.append(_worker_only(n_e2e, folder, r))
            summarised.append(_end_to_end(n_e2e, folder, r, summaries=True))
    e2e_med, raw_med = statistics.median(e2e), statistics.median(raw)
    worker_med = statistics.median(worker)
    summ_med = statistics.median(summarised)
    return [
        {
            "benchmark": "Tracker.emit, fields only (calling thread)",
            "footfall": emit_us,
            "unit": "us/event",
            "goal": "<= 5",
        },
        {
            "benchmark": "Tracker.emit, with props (calling thread)",
            "footfall": emit_props_us,
            "unit": "us/event",
            "goal": "<= 5",
        },
        {
            "benchmark": "emit -> worker -> SQLite, end to end",
            "footfall": e2e_med,
            "peer": "raw sqlite3.executemany, same rows",
            "peer_value": raw_med,
            "ratio": f"{e2e_med / raw_med:.0%}",
            "unit": "events/s",
            "goal": ">= 70 % of raw",
        },
        {
            "benchmark": "send(built event) -> worker -> SQLite",
            "footfall": worker_med,
            "peer": "raw sqlite3.executemany, same rows",
            "peer_value": raw_med,
            "ratio": f"{worker_med / raw_med:.0%}",
            "unit": "events/s",
            "goal": ">= 70 % of raw",
        },
        {
            "benchmark": "emit -> worker -> SQLite, then stats summaries folded (catch-up)",
            "footfall": summ_med,
            "peer": "raw sqlite3.executemany, same rows",
            "peer_value": raw_med,
            "ratio": f"{summ_med / raw_med:.0%}",
            "unit": "events/s",
            "goal": "",
        },
    ]
