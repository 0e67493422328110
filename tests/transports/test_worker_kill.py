"""`footfall worker` as real processes: SIGKILL mid-batch, SIGTERM mid-batch, sharing.

"Mid-batch" is made certain, not timed: once the workers are up (they
migrate the store at start, which needs the lock), the test takes SQLite's
write lock (BEGIN IMMEDIATE on its own connection) and only then appends, so
a worker that has read entries sits inside `store.write` with them pending
until the lock is released.
"""

from __future__ import annotations

import re
import signal
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from footfall import connect
from footfall.delivery.redis_sink import RedisSink
from footfall.event import Event
from footfall.stores.base import Store
from transports.helpers import WorkerProcess, make_events, pending_of, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = connect(db_url)
    yield s
    s.close()


@pytest.fixture
def db_lock(db_path: Path, store: Store) -> Iterator[Callable[[], sqlite3.Connection]]:
    """`lock()` takes the database's write lock; the test rolls back to release it."""
    conn = sqlite3.connect(db_path, isolation_level=None, timeout=10)

    def lock() -> sqlite3.Connection:
        conn.execute("BEGIN IMMEDIATE")
        return conn

    yield lock
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    conn.close()


def consumers(client: Any, stream: str) -> set[str]:
    try:
        return {c["name"].decode() for c in client.xinfo_consumers(stream, "footfall")}
    except Exception:  # stream or group not created yet
        return set()


def ready(client: Any, stream: str, *names: str) -> None:
    """Wait until every named worker has made its first read (so it has migrated)."""
    wait_for(lambda: consumers(client, stream) >= set(names), what=f"workers {names} up")


def produce(redis_url: str, stream: str, batches: int, size: int) -> list[Event]:
    sink = RedisSink(redis_url, stream=stream)
    sent: list[Event] = []
    for _ in range(batches):
        batch = make_events(size)
        sink.write(batch)
        sent += batch
    sink.close()
    return sent


def all_ids(store: Store) -> list[str]:
    return [e.id for e in store.get_usage(limit=10_000)]


def summary(worker: WorkerProcess) -> dict[str, int]:
    out = worker.output()
    m = re.search(r"([\d,]+) events in ([\d,]+) entries stored .*?([\d,]+) claimed", out)
    assert m, out
    events, entries, claimed = (int(g.replace(",", "")) for g in m.groups())
    return {"events": events, "entries": entries, "claimed": claimed}


def test_sigkill_mid_batch_then_another_worker_takes_over(
    redis_url: str,
    redis_client: Any,
    stream: str,
    store: Store,
    db_lock: Callable[[], sqlite3.Connection],
    start_worker: Callable[..., WorkerProcess],
) -> None:
    a = start_worker("A", "--batch", "5", "--claim-idle-ms", "600000")
    ready(redis_client, stream, "A")
    lock = db_lock()
    sent = produce(redis_url, stream, batches=20, size=50)
    held = wait_for(lambda: pending_of(redis_client, stream, "A"), what="worker A mid-batch")
    a.signal(signal.SIGKILL)
    assert a.wait() == -signal.SIGKILL
    lock.execute("ROLLBACK")
    assert pending_of(redis_client, stream, "A") == held  # A's share, unacknowledged

    b = start_worker(
        "B", "--batch", "5", "--claim-idle-ms", "300", "--claim-interval", "0.2", "--burst"
    )
    assert b.wait() == 0, b.output()
    ids = all_ids(store)
    assert len(ids) == len(sent)  # nothing lost, nothing doubled
    assert set(ids) == {e.id for e in sent}
    assert summary(b)["claimed"] == held
    assert pending_of(redis_client, stream, "A") == 0
    assert redis_client.xpending(stream, "footfall")["pending"] == 0


def test_sigterm_finishes_the_batch_in_hand(
    redis_url: str,
    redis_client: Any,
    stream: str,
    store: Store,
    db_lock: Callable[[], sqlite3.Connection],
    start_worker: Callable[..., WorkerProcess],
) -> None:
    a = start_worker("A", "--batch", "3")
    ready(redis_client, stream, "A")
    lock = db_lock()
    sent = produce(redis_url, stream, batches=6, size=20)
    held = wait_for(lambda: pending_of(redis_client, stream, "A"), what="worker A mid-batch")
    a.signal(signal.SIGTERM)
    lock.execute("ROLLBACK")  # the store comes back while A is stopping
    assert a.wait() == 0, a.output()
    assert summary(a)["entries"] == held  # it finished that batch and took no other
    assert pending_of(redis_client, stream, "A") == 0
    assert len(all_ids(store)) == 20 * held
    assert redis_client.xlen(stream) == 6 - held  # the rest waits for the next worker
    b = start_worker("B", "--burst")
    assert b.wait() == 0, b.output()
    assert set(all_ids(store)) == {e.id for e in sent}


def test_two_worker_processes_share_one_stream(
    redis_url: str,
    redis_client: Any,
    stream: str,
    store: Store,
    db_lock: Callable[[], sqlite3.Connection],
    start_worker: Callable[..., WorkerProcess],
) -> None:
    a = start_worker("A", "--batch", "2")
    b = start_worker("B", "--batch", "2")
    ready(redis_client, stream, "A", "B")
    lock = db_lock()
    sent = produce(redis_url, stream, batches=10, size=30)
    # Both hold a share at once, which only happens when the group splits the stream.
    wait_for(
        lambda: pending_of(redis_client, stream, "A") and pending_of(redis_client, stream, "B"),
        what="both workers holding entries",
    )
    lock.execute("ROLLBACK")
    wait_for(lambda: store.count() == len(sent), what="every event stored")
    for w in (a, b):
        w.signal(signal.SIGINT)
    assert a.wait() == 0 and b.wait() == 0
    sa, sb = summary(a), summary(b)
    assert sa["events"] > 0 and sb["events"] > 0
    assert sa["events"] + sb["events"] == len(sent)
    assert sorted(all_ids(store)) == sorted(e.id for e in sent)


def test_sigkill_mid_transaction_on_postgresql(
    redis_url: str,
    redis_client: Any,
    stream: str,
    pg_url: str,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    """The same takeover, with the worker killed inside an open PostgreSQL transaction."""
    import psycopg

    store = connect(pg_url)
    schema = pg_url.rsplit("schema=", 1)[1]
    a = start_worker("A", "--batch", "5", "--claim-idle-ms", "600000", db=pg_url)
    ready(redis_client, stream, "A")
    locker = psycopg.connect(pg_url.split("?")[0])
    try:
        # Readers pass, writers wait: A's INSERT blocks inside its transaction.
        locker.execute(f"LOCK TABLE {schema}.events IN EXCLUSIVE MODE")
        sent = produce(redis_url, stream, batches=20, size=50)
        held = wait_for(lambda: pending_of(redis_client, stream, "A"), what="worker A mid-batch")
        a.signal(signal.SIGKILL)
        assert a.wait() == -signal.SIGKILL
    finally:
        locker.rollback()
        locker.close()
    b = start_worker("B", "--claim-idle-ms", "300", "--claim-interval", "0.2", "--burst", db=pg_url)
    assert b.wait() == 0, b.output()
    ids = all_ids(store)
    assert len(ids) == len(sent) and set(ids) == {e.id for e in sent}
    assert summary(b)["claimed"] == held
    assert redis_client.xpending(stream, "footfall")["pending"] == 0
    store.close()
