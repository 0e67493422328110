"""What only the server stores have: URLs, concurrent writers, ClickHouse specifics."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from tests.stores.backends import clickhouse_buffered_store, clickhouse_store, postgres_store

from footfall import Event
from footfall.errors import ConfigurationError

T0 = datetime(2026, 10, 1, tzinfo=timezone.utc)


def _events(n: int) -> list[Event]:
    return [Event(name="pageview", ts=T0 + timedelta(seconds=i), site="a.test") for i in range(n)]


def test_postgres_url_parameters() -> None:
    pytest.importorskip("psycopg")
    from footfall.stores.postgres import split_url

    url, schema, size = split_url("postgres://u:p@h:5433/db?schema=ff&pool_size=3&sslmode=disable")
    assert (url, schema, size) == ("postgresql://u:p@h:5433/db?sslmode=disable", "ff", 3)
    with pytest.raises(ConfigurationError):
        split_url("postgresql://h/db?schema=a;drop")


def test_clickhouse_url_parameters() -> None:
    pytest.importorskip("clickhouse_driver")
    from footfall.stores.clickhouse import split_url

    url, db, days = split_url("clickhouse://u@h:9000/stats?retention_days=400&compression=lz4")
    assert (url, db, days) == ("clickhouse://u@h:9000/stats?compression=lz4", "stats", 400)
    with pytest.raises(ConfigurationError):
        split_url("clickhouse://h/x-y")
    with pytest.raises(ConfigurationError):
        split_url("clickhouse://h/db?retention_days=0")


@pytest.mark.parametrize(
    "factory",
    [postgres_store, clickhouse_store, clickhouse_buffered_store],
    ids=["postgres", "ch", "ch-buffered"],
)
def test_threads_writing_overlapping_batches_store_each_event_once(
    factory: Any, tmp_path: Path
) -> None:
    store = factory(tmp_path)
    try:
        events = _events(2_000)
        added: list[int] = []

        def writer(offset: int) -> None:
            # Each thread writes every event, in batches starting at a different place.
            for i in range(0, len(events), 500):
                j = (i + offset) % len(events)
                added.append(store.write(events[j : j + 500]))

        threads = [threading.Thread(target=writer, args=(k * 500,)) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert store.count() == len(events)
        if store.dialect == "postgres":  # ON CONFLICT makes the counts exact under races
            assert sum(added) == len(events)
    finally:
        store.close()


def test_clickhouse_merges_away_duplicates_of_racing_writers(tmp_path: Path) -> None:
    store: Any = clickhouse_store(tmp_path)
    try:
        from footfall.stores.ch_sql import INSERT
        from footfall.stores.rows import row_encoder, to_micros

        rows = [row_encoder(ts=to_micros, boolean=int)(e) for e in _events(50)]
        store.client.execute(INSERT, rows)  # two writers that both passed the id check
        store.client.execute(INSERT, rows)
        assert store.count() == 100
        store.client.execute("OPTIMIZE TABLE events FINAL")
        assert store.count() == 50
        assert store.write(_events(0)) == 0
    finally:
        store.close()


def test_clickhouse_stats_need_a_current_server(tmp_path: Path) -> None:
    store: Any = clickhouse_store(tmp_path)
    try:
        from footfall.stats.dialect_clickhouse import MIN_VERSION
        from footfall.stats.errors import StatsError

        assert store.server_version >= MIN_VERSION  # Debian's 18.16 and anything newer
        assert store.stats_dialect().name == "clickhouse"
        # A server older than the dialect supports is told so (501), not sent SQL it lacks.
        store._version = (18, 10)
        with pytest.raises(StatsError) as err:
            store.stats_dialect()
        assert err.value.status == 501
        assert "18.16" in err.value.message and "18.10" in err.value.message
    finally:
        store.close()


def test_clickhouse_retention(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store: Any = clickhouse_store(tmp_path)
    try:
        store.retention_days = 30
        with caplog.at_level(logging.WARNING, logger="footfall.stores"):
            store.migrate()
        ddl = store.query("SHOW CREATE TABLE events")[0][0]
        if store.server_version >= (19, 6):
            assert "TTL" in ddl
        else:
            assert "TTL" not in ddl and "footfall purge" in caplog.text
    finally:
        store.close()


def test_dashboard_tables_through_the_generic_adapter(tmp_path: Path) -> None:
    store: Any = postgres_store(tmp_path)
    try:
        from footfall.dashboard.db import execute, fetch

        execute(store, "INSERT INTO dashboard_users (name, password_hash, created_at) "
                "VALUES (?, ?, ?)", ["ann", "h", 1])  # fmt: skip
        assert fetch(store, "SELECT name FROM dashboard_users WHERE name = ?", ["ann"]) == [
            ("ann",)
        ]
    finally:
        store.close()


@pytest.mark.parametrize("factory", [postgres_store, clickhouse_store], ids=["postgres", "ch"])
def test_a_forked_child_writes_through_its_own_connections(factory: Any, tmp_path: Path) -> None:
    import multiprocessing

    store = factory(tmp_path)
    try:
        assert store.write(_events(10)) == 10  # the parent's connections are open now

        def child() -> None:
            extra = [Event(name="child", ts=T0, site="a.test")]
            raise SystemExit(0 if store.write(extra) == 1 else 1)

        proc = multiprocessing.get_context("fork").Process(target=child)
        proc.start()
        proc.join(60)
        assert proc.exitcode == 0
        assert store.count() == 11  # and the parent's connections still work
    finally:
        store.close()
