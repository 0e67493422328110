"""Transports: RedisSink's append rate and `footfall worker` throughput through Redis.

* append: events/s appended by `RedisSink` (one XADD per 500-event batch),
  beside the naive peer, one XADD of one JSON event per event (what a
  RedisEmitter-style per-event push costs).
* worker: events/s from the first XADD to the last event committed in a
  SQLite file by a `StreamWorker` consuming concurrently, beside the peer
  `SQLiteStore.write` of the same batches with no Redis in between (the
  ceiling: the worker cannot store faster than the store writes).

Medians of 3 runs (1 with --quick). Needs Redis on 127.0.0.1:6379
($FOOTFALL_TEST_REDIS); every wait is bounded.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from footfall import connect
from footfall.delivery.redis_sink import RedisSink, redis_client
from footfall.delivery.stream_worker import StreamWorker
from footfall.event import Event

REDIS_URL = os.environ.get("FOOTFALL_TEST_REDIS", "redis://127.0.0.1:6379/0")
BATCH = 500
TIMEOUT = 120.0  # seconds: the bound of one measured run


def _batches(n: int) -> list[list[Event]]:
    events = [
        Event(
            name="pageview",
            site="bench.example",
            url=f"https://bench.example/p/{i % 500}",
            path=f"/p/{i % 500}",
            referrer="https://www.google.com/",
            visitor_id=f"v{i % 5_000}",
            browser="Firefox",
            os="Linux",
            country="DE",
            props={"plan": "pro"} if i % 10 == 0 else {},
        )
        for i in range(n)
    ]
    return [events[i : i + BATCH] for i in range(0, n, BATCH)]


def _append_rate(batches: list[list[Event]]) -> float:
    stream = f"bench:{uuid.uuid4().hex[:8]}"
    sink = RedisSink(REDIS_URL, stream=stream, maxlen=None)
    try:
        started = time.perf_counter()
        for batch in batches:
            sink.write(batch)
        took = time.perf_counter() - started
    finally:
        sink.client.delete(stream)
        sink.close()
    return sum(map(len, batches)) / took


def _append_peer(batches: list[list[Event]]) -> float:
    import msgspec

    stream = f"bench:{uuid.uuid4().hex[:8]}"
    client = redis_client(REDIS_URL)
    encode = msgspec.json.encode
    try:
        started = time.perf_counter()
        for batch in batches:
            for ev in batch:
                client.xadd(stream, {b"event": encode(ev)})
        took = time.perf_counter() - started
    finally:
        client.delete(stream)
        client.close()
    return sum(map(len, batches)) / took


def _worker_rate(batches: list[list[Event]], tmp: Path) -> float:
    """XADD everything while a worker consumes; stop the clock when all is stored."""
    n = sum(map(len, batches))
    stream = f"bench:{uuid.uuid4().hex[:8]}"
    store = connect(f"sqlite:///{tmp / f'{stream[6:]}.db'}")
    client = redis_client(REDIS_URL)
    worker = StreamWorker(client, store, stream, consumer="bench", batch=10, block_ms=100)
    worker.ensure_group()
    thread = threading.Thread(target=worker.run, daemon=True)
    sink = RedisSink(REDIS_URL, stream=stream, maxlen=None)
    try:
        thread.start()
        started = time.perf_counter()
        for batch in batches:
            sink.write(batch)
        deadline = time.monotonic() + TIMEOUT
        while worker.stats.events < n:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError(f"worker stored {worker.stats.events} of {n} in time")
            time.sleep(0.002)
        took = time.perf_counter() - started
        assert store.count() == n
    finally:
        worker.stop()
        thread.join(10)
        client.delete(stream, f"{stream}:dead")
        client.close()
        sink.close()
        store.close()
    return n / took


def _store_peer(batches: list[list[Event]], tmp: Path) -> float:
    store = connect(f"sqlite:///{tmp / f'peer-{uuid.uuid4().hex[:8]}.db'}")
    try:
        merged = [[e for b in batches[i : i + 10] for e in b] for i in range(0, len(batches), 10)]
        started = time.perf_counter()
        for group in merged:
            store.write(group)
        took = time.perf_counter() - started
    finally:
        store.close()
    return sum(map(len, batches)) / took


def _median(fn: Any, runs: int) -> float:
    return statistics.median(fn() for _ in range(runs))


def run(quick: bool) -> list[dict[str, Any]]:
    n = 20_000 if quick else 200_000
    runs = 1 if quick else 3
    batches = _batches(n)
    peer_batches = batches[: max(1, len(batches) // 10)]  # the per-event peer is slow
    rows: list[dict[str, Any]] = []
    append = _median(lambda: _append_rate(batches), runs)
    append_peer = _median(lambda: _append_peer(peer_batches), runs)
    rows.append(
        {
            "benchmark": f"RedisSink append, {n:,} events in {BATCH}-event batches",
            "footfall": append,
            "peer": "XADD per event (JSON)",
            "peer_value": append_peer,
            "ratio": append / append_peer,
            "unit": "events/s",
            "goal": "",
        }
    )
    with tempfile.TemporaryDirectory(prefix="footfall-bench-") as d:
        tmp = Path(d)
        rate = _median(lambda: _worker_rate(batches, tmp), runs)
        ceiling = _median(lambda: _store_peer(batches, tmp), runs)
    rows.append(
        {
            "benchmark": f"worker: XADD -> stored in SQLite, {n:,} events",
            "footfall": rate,
            "peer": "SQLiteStore.write, no Redis",
            "peer_value": ceiling,
            "ratio": rate / ceiling,
            "unit": "events/s",
            "goal": "",
        }
    )
    return rows
