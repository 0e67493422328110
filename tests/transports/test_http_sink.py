"""HttpSink against a real HTTP server: statuses, Retry-After, spool and replay."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from footfall.delivery.http_sink import HttpSink, HttpSinkError, retry_after
from footfall.delivery.spool import Spool
from footfall.stores.base import Store
from transports.helpers import make_events, wait_for
from transports.http_app import Collector, Running, free_port, serve

TOKEN = "s3cret-token"


@pytest.fixture
def collector(sqlite_store: Store) -> Collector:
    return Collector(sqlite_store, TOKEN)


@pytest.fixture
def server(collector: Collector) -> Iterator[Running]:
    running = serve(collector, free_port())
    yield running
    running.stop()


def ids(store: Store) -> list[str]:
    return sorted(e.id for e in store.get_usage(limit=10_000))


def test_batches_arrive_gzipped_with_the_token(
    server: Running, collector: Collector, sqlite_store: Store
) -> None:
    events = make_events(1_200, ts=make_events(1)[0].ts)
    sink = HttpSink(server.url, TOKEN, max_events=500)
    sink.write(events)
    sink.close()
    assert ids(sqlite_store) == sorted(e.id for e in events)
    assert [r["encoding"] for r in collector.requests] == ["gzip"] * 3  # 500 + 500 + 200
    stored = sqlite_store.get_usage(limit=1)[0]
    assert stored.ts == events[0].ts and stored.visitor_id.startswith("v")


def test_compress_false_sends_plain_json(server: Running, collector: Collector) -> None:
    HttpSink(server.url, TOKEN, compress=False).write(make_events(2))
    assert collector.requests[0]["encoding"] is None


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429, 408])
def test_retryable_statuses_are_retried(
    server: Running, collector: Collector, sqlite_store: Store, status: int
) -> None:
    collector.script = [(status, {}), (status, {})]
    HttpSink(server.url, TOKEN, retries=3).write(make_events(5))
    assert len(collector.requests) == 3 and sqlite_store.count() == 5


def test_retry_after_is_honoured(server: Running, collector: Collector) -> None:
    collector.script = [(429, {"Retry-After": "1"})]
    HttpSink(server.url, TOKEN, retries=2).write(make_events(1))
    first, second = collector.requests
    assert second["at"] - first["at"] >= 0.9


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_other_4xx_are_not_retried(
    server: Running, collector: Collector, tmp_path: Path, status: int
) -> None:
    collector.script = [(status, {})]
    sink = HttpSink(server.url, TOKEN, retries=3, spool=tmp_path / "spool")
    with pytest.raises(HttpSinkError) as info:
        sink.write(make_events(3))
    assert info.value.retryable is False and info.value.status == status
    assert len(collector.requests) == 1
    assert not sink.spool  # refused data is not spooled
    sink.close()


def test_413_splits_the_batch_and_a_single_event_is_refused(
    server: Running, collector: Collector, sqlite_store: Store
) -> None:
    collector.script = [(413, {})]
    HttpSink(server.url, TOKEN).write(make_events(4))
    assert len(collector.requests) == 3 and sqlite_store.count() == 4  # 4 -> 2 + 2
    collector.script = [(413, {})]
    with pytest.raises(HttpSinkError) as info:
        HttpSink(server.url, TOKEN).write(make_events(1))
    assert info.value.status == 413 and info.value.retryable is False


def test_bodies_over_the_limit_are_split_before_sending(
    server: Running, collector: Collector, sqlite_store: Store
) -> None:
    events = make_events(8, props={"blob": "x" * 400})
    HttpSink(server.url, TOKEN, compress=False, max_body_bytes=1_000).write(events)
    assert len(collector.requests) == 8  # one ~600-byte event per request
    assert ids(sqlite_store) == sorted(e.id for e in events)


def test_a_wrong_token_is_refused_without_retry(server: Running, collector: Collector) -> None:
    with pytest.raises(HttpSinkError) as info:
        HttpSink(server.url, "wrong", retries=3).write(make_events(1))
    assert info.value.status == 401 and len(collector.requests) == 1


def test_without_spool_a_down_collector_is_reported_once_the_attempts_are_spent(
    tmp_path: Path,
) -> None:
    sink = HttpSink(f"http://127.0.0.1:{free_port()}", TOKEN, retries=1)
    events = make_events(3)
    with pytest.raises(HttpSinkError) as info:
        sink.write(events)
    # Final: the dispatcher must not send it again (HttpSink is the one retry layer).
    assert info.value.retryable is False
    assert info.value.events == events and "unreachable" in str(info.value)


def test_retry_after_parsing() -> None:
    assert retry_after("7") == 7.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after("soon") is None and retry_after(None) is None


def test_spool_keeps_order_and_replays_when_the_collector_returns(
    collector: Collector, sqlite_store: Store, tmp_path: Path
) -> None:
    port = free_port()
    sink = HttpSink(
        f"http://127.0.0.1:{port}",
        TOKEN,
        spool=tmp_path / "spool",
        retries=0,
        replay_max_interval=0.3,
    )
    batches = [make_events(10) for _ in range(5)]
    for batch in batches:
        sink.write(batch)  # nobody listens: all spooled
    assert len(sink.spool or []) == 5 and sqlite_store.count() == 0
    running = serve(collector, port)
    try:
        wait_for(lambda: sqlite_store.count() == 50, what="spool replay")
        wait_for(lambda: not sink.spool, what="spool emptied")
        # Replayed oldest first: each request's events are the next batch.
        stored = {e.id: e for e in sqlite_store.get_usage(limit=100)}
        assert set(stored) == {e.id for b in batches for e in b}
        assert len(collector.requests) == 5
    finally:
        sink.close()
        running.stop()


def test_spool_survives_a_restart_of_the_sender(
    collector: Collector, sqlite_store: Store, tmp_path: Path
) -> None:
    port = free_port()
    first = HttpSink(f"http://127.0.0.1:{port}", TOKEN, spool=tmp_path / "spool", retries=0)
    events = make_events(20)
    first.write(events)
    first.close(timeout=0.5)  # the app exits with the batch on disk
    running = serve(collector, port)
    try:
        second = HttpSink(f"http://127.0.0.1:{port}", TOKEN, spool=tmp_path / "spool")
        wait_for(lambda: sqlite_store.count() == 20, what="replay after restart")
        second.close()
    finally:
        running.stop()
    assert ids(sqlite_store) == sorted(e.id for e in events)


def test_a_spooled_batch_refused_for_good_is_set_aside(
    server: Running, collector: Collector, sqlite_store: Store, tmp_path: Path
) -> None:
    spool = Spool(tmp_path / "spool")
    spool.append(b"this is not json")
    sink = HttpSink(server.url, TOKEN, spool=tmp_path / "spool", compress=False)
    wait_for(lambda: not sink.spool, what="bad batch set aside")
    sink.write(make_events(3))
    sink.close()
    assert sqlite_store.count() == 3
    [reason] = (tmp_path / "spool" / "rejected").glob("*.reason")
    assert "400" in reason.read_text()


def test_full_spool_refuses_reports_and_counts(tmp_path: Path) -> None:
    sink = HttpSink(
        f"http://127.0.0.1:{free_port()}",
        TOKEN,
        spool=tmp_path / "s",
        spool_max_bytes=2_000,
        retries=0,
    )
    lost: list[str] = []
    for _ in range(10):
        try:
            sink.write(make_events(10))
        except HttpSinkError as exc:
            assert exc.retryable is False and "full" in str(exc)
            lost += [e.id for e in exc.events or []]
    assert sink.dropped > 0 and sink.spooled > 0
    assert len(lost) == 10 * sink.dropped  # every event the spool refused is reported
    assert (sink.spool.size_bytes if sink.spool else 0) <= 2_000
    sink.close(timeout=0.1)
