"""RedisSink and StreamWorker in-process, against a real Redis and SQLite file."""

from __future__ import annotations

from typing import Any

import pytest

from footfall import connect
from footfall.delivery.redis_sink import RedisSink
from footfall.delivery.serialize import FORMAT_MSGPACK, encode_batch
from footfall.delivery.stream_worker import StreamWorker
from footfall.event import Event
from footfall.stores.base import Store
from footfall.tracker import Tracker
from transports.helpers import make_events


def worker(client: Any, store: Store, stream: str, **kw: Any) -> StreamWorker:
    kw.setdefault("block_ms", 50)
    kw.setdefault("claim_interval", 0.05)
    return StreamWorker(client, store, stream, consumer=kw.pop("consumer", "w1"), **kw)


def stored_ids(store: Store) -> set[str]:
    return {e.id for e in store.get_usage(limit=10_000)}


def test_sink_appends_one_entry_per_batch(redis_url: str, redis_client: Any, stream: str) -> None:
    sink = RedisSink(redis_url, stream=stream)
    sink.write(make_events(3))
    sink.write(make_events(2))
    sink.close()
    entries = redis_client.xrange(stream)
    assert len(entries) == 2
    assert entries[0][1][b"fmt"] == FORMAT_MSGPACK.encode()
    assert entries[0][1][b"n"] == b"3"


def test_maxlen_caps_the_stream(redis_url: str, redis_client: Any, stream: str) -> None:
    sink = RedisSink(redis_url, stream=stream, maxlen=5, approximate=False)
    for _ in range(12):
        sink.write(make_events(1))
    sink.close()
    assert redis_client.xlen(stream) == 5


def test_tracker_to_redis_to_store(
    redis_url: str, redis_client: Any, stream: str, any_store_url: str
) -> None:
    sqlite_store = connect(any_store_url)  # SQLite or PostgreSQL
    tracker = Tracker([RedisSink(redis_url, stream=stream)], flush_interval=0.05)
    sent = [tracker.emit("signup", {"plan": "pro"}, site="s.example") for _ in range(25)]
    tracker.close()
    stats = worker(redis_client, sqlite_store, stream).run(burst=True)
    assert stats.events == 25
    assert stored_ids(sqlite_store) == {e.id for e in sent}
    stored = sqlite_store.get_usage(limit=1)[0]
    assert stored.props == {"plan": "pro"} and stored.site == "s.example"
    assert redis_client.xlen(stream) == 0  # acked entries are deleted
    sqlite_store.close()


def test_keep_acked_leaves_entries_for_other_groups(
    redis_url: str, redis_client: Any, stream: str, sqlite_store: Store
) -> None:
    RedisSink(redis_url, stream=stream).write(make_events(4))
    worker(redis_client, sqlite_store, stream, delete_acked=False).run(burst=True)
    assert redis_client.xlen(stream) == 1
    assert redis_client.xpending(stream, "footfall")["pending"] == 0
    assert sqlite_store.count() == 4


def test_a_redelivered_batch_is_stored_once(
    redis_url: str, redis_client: Any, stream: str, any_store_url: str
) -> None:
    sqlite_store = connect(any_store_url)
    batch = make_events(10)
    sink = RedisSink(redis_url, stream=stream)
    sink.write(batch)
    sink.write(batch)  # a producer retry after a lost reply
    stats = worker(redis_client, sqlite_store, stream).run(burst=True)
    assert (stats.events, stats.stored) == (20, 10)
    assert stored_ids(sqlite_store) == {e.id for e in batch}
    sqlite_store.close()


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({b"fmt": FORMAT_MSGPACK, b"events": b"\xc1garbage"}, "undecodable"),
        ({b"fmt": "csv-v0", b"events": b"a,b"}, "unknown batch format"),
        ({b"hello": b"world"}, "lacks"),
        (
            {b"fmt": FORMAT_MSGPACK, b"events": encode_batch([Event(name="x", bytes=2**64 - 1)])},
            "store refused",
        ),
    ],
)
def test_poison_entries_are_dead_lettered_and_do_not_block(
    redis_url: str,
    redis_client: Any,
    stream: str,
    any_store_url: str,
    fields: dict[bytes, Any],
    reason: str,
) -> None:
    sqlite_store = connect(any_store_url)
    sink = RedisSink(redis_url, stream=stream)
    before, after = make_events(5), make_events(5)
    sink.write(before)
    redis_client.xadd(stream, fields)
    sink.write(after)
    stats = worker(redis_client, sqlite_store, stream).run(burst=True)
    assert stats.dead == 1
    assert stored_ids(sqlite_store) == {e.id for e in before + after}
    [(_, dead)] = redis_client.xrange(f"{stream}:dead")
    assert reason in dead[b"reason"].decode()
    assert dead[b"stream"].decode() == stream
    assert redis_client.xpending(stream, "footfall")["pending"] == 0
    sqlite_store.close()


def test_a_dead_consumers_entries_are_claimed(
    redis_url: str, redis_client: Any, stream: str, sqlite_store: Store
) -> None:
    batch = make_events(7)
    RedisSink(redis_url, stream=stream).write(batch)
    w = worker(redis_client, sqlite_store, stream, claim_idle_ms=0)
    w.ensure_group()
    # "dead" reads the entry and never acknowledges it.
    redis_client.xreadgroup("footfall", "dead", {stream: ">"}, count=10)
    stats = w.run(burst=True)
    assert stats.claimed == 1
    assert stored_ids(sqlite_store) == {e.id for e in batch}
    assert redis_client.xpending(stream, "footfall")["pending"] == 0


def test_an_entry_delivered_too_often_is_dead_lettered(
    redis_url: str, redis_client: Any, stream: str, sqlite_store: Store
) -> None:
    RedisSink(redis_url, stream=stream).write(make_events(3))
    w = worker(redis_client, sqlite_store, stream, claim_idle_ms=0, max_deliveries=3)
    w.ensure_group()
    redis_client.xreadgroup("footfall", "crashy", {stream: ">"}, count=10)
    for _ in range(3):  # it was handed out again and again, never stored
        redis_client.xreadgroup("footfall", "crashy", {stream: "0"}, count=10)
    stats = w.run(burst=True)
    assert stats.dead == 1 and sqlite_store.count() == 0
    [(_, dead)] = redis_client.xrange(f"{stream}:dead")
    assert b"delivered" in dead[b"reason"]


def test_restart_stores_its_own_pending_entries_first(
    redis_url: str, redis_client: Any, stream: str, db_url: str
) -> None:
    batch = make_events(4)
    RedisSink(redis_url, stream=stream).write(batch)
    store = connect(db_url)
    w = worker(redis_client, store, stream, claim_idle_ms=60_000)
    w.ensure_group()
    redis_client.xreadgroup("footfall", "w1", {stream: ">"}, count=10)  # then it crashed
    stats = w.run(burst=True)
    assert (stats.claimed, stats.events) == (0, 4)
    assert stored_ids(store) == {e.id for e in batch}
    store.close()


def test_several_workers_share_a_group(
    redis_url: str, redis_client: Any, stream: str, sqlite_store: Store
) -> None:
    sink = RedisSink(redis_url, stream=stream)
    sent = []
    for _ in range(10):
        batch = make_events(10)
        sent += batch
        sink.write(batch)
    a = worker(redis_client, sqlite_store, stream, consumer="a", batch=1)
    b = worker(redis_client, sqlite_store, stream, consumer="b", batch=1)
    a.ensure_group()
    # Interleave reads so both take a share.
    for w in (a, b, a, b):
        w.handle(w._read(">"))
    a.run(burst=True)
    b.run(burst=True)
    assert a.stats.entries >= 2 and b.stats.entries >= 2
    assert a.stats.events + b.stats.events == 100
    assert stored_ids(sqlite_store) == {e.id for e in sent}


def test_silent_consumers_holding_nothing_are_forgotten(
    redis_url: str, redis_client: Any, stream: str, sqlite_store: Store
) -> None:
    RedisSink(redis_url, stream=stream).write(make_events(2))
    w = worker(redis_client, sqlite_store, stream, forget_idle_ms=0)
    w.ensure_group()
    redis_client.xreadgroup("footfall", "ghost", {stream: "0"}, count=1)  # reads nothing
    redis_client.xreadgroup("footfall", "holder", {stream: ">"}, count=1)  # holds one entry
    assert w.forget_consumers() == ["ghost"]
    names = {c["name"] for c in redis_client.xinfo_consumers(stream, "footfall")}
    assert names == {b"holder"}


def test_a_failing_store_is_retried_and_nothing_is_acked_unstored(
    redis_url: str, redis_client: Any, stream: str, db_path: Any, sqlite_store: Store
) -> None:
    import sqlite3
    import threading

    from transports.helpers import wait_for

    batch = make_events(30)
    w = worker(redis_client, sqlite_store, stream)
    w.ensure_group()
    side = sqlite3.connect(db_path, isolation_level=None)
    side.execute("ALTER TABLE events RENAME TO events_away")  # writes now fail: no such table
    thread = threading.Thread(target=w.run, daemon=True)
    thread.start()
    try:
        RedisSink(redis_url, stream=stream).write(batch)
        wait_for(lambda: w.stats.store_errors >= 2, what="failed store writes")
        assert redis_client.xpending(stream, "footfall")["pending"] == 1  # held, not acked
        assert w.stats.dead == 0  # an unavailable store is not the batch's fault
        side.execute("ALTER TABLE events_away RENAME TO events")
        wait_for(lambda: w.stats.events == 30, what="the retried write")
    finally:
        w.stop()
        thread.join(10)
        side.close()
    assert stored_ids(sqlite_store) == {e.id for e in batch}
    assert redis_client.xpending(stream, "footfall")["pending"] == 0


def test_a_worker_waits_for_redis_instead_of_crashing(sqlite_store: Store) -> None:
    import threading

    from footfall.delivery.redis_sink import redis_client
    from transports.http_app import free_port

    client = redis_client(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.2)
    w = worker(client, sqlite_store, "nowhere")
    thread = threading.Thread(target=w.run, daemon=True)
    thread.start()
    thread.join(1.0)
    assert thread.is_alive()  # still retrying, not dead with a ConnectionError
    w.stop()
    thread.join(10)
    assert not thread.is_alive()
    client.close()
