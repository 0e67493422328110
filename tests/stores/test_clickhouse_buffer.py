"""The opt-in ClickHouse Buffer table (`?buffer_seconds=N`).

The whole contract suite also runs on a buffered store (tests/stores/backends.py,
"clickhouse-buffered"); these are the parts only a buffer has: the URL
option, events visible before they reach `events`, the flush, and the DDL
staying valid on current ClickHouse (chDB).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from footfall import Event
from footfall.errors import ConfigurationError

T0 = datetime(2026, 10, 1, tzinfo=timezone.utc)


def test_buffer_seconds_from_the_url() -> None:
    pytest.importorskip("clickhouse_driver")
    from footfall.stores.clickhouse import buffer_seconds, split_url

    url = "clickhouse://h:9000/db?buffer_seconds=10&compression=lz4"
    assert buffer_seconds(url) == 10
    assert split_url(url)[0] == "clickhouse://h:9000/db?compression=lz4"  # not a driver setting
    assert buffer_seconds("clickhouse://h/db") is None
    for bad in ("0", "x", "86400"):
        with pytest.raises(ConfigurationError):
            buffer_seconds(f"clickhouse://h/db?buffer_seconds={bad}")


def test_buffered_events_are_read_before_and_after_the_flush(tmp_path: Path) -> None:
    from tests.stores.backends import clickhouse_buffered_store

    store: Any = clickhouse_buffered_store(tmp_path)
    try:
        events = [Event(name="pageview", ts=T0 + timedelta(seconds=i), site="s") for i in range(50)]
        assert store.write(events) == 50
        # In the buffer (60 s, far below its row limits), not yet in `events`...
        assert store.client.execute("SELECT count() FROM events") == [(0,)]
        # ...yet counted, paged and known to the duplicate check.
        assert store.count() == 50
        assert len(store.get_usage(limit=100)) == 50
        assert store.write(events[:10]) == 0
        store.flush_buffer()
        assert store.client.execute("SELECT count() FROM events") == [(50,)]
        assert store.count() == 50
        assert store.write(events) == 0
    finally:
        store.close()


def test_migrating_again_keeps_buffered_events(tmp_path: Path) -> None:
    from tests.stores.backends import clickhouse_buffered_store

    store: Any = clickhouse_buffered_store(tmp_path)
    try:
        store.write([Event(name="pageview", ts=T0, site="s")])
        assert store.migrate() == []
        assert store.count() == 1
    finally:
        store.close()


def test_buffer_ddl_on_current_clickhouse(tmp_path: Path) -> None:
    chdb_session = pytest.importorskip("chdb.session", reason="chdb is a dev dependency")
    from footfall.stores.ch_sql import BUFFERED, buffer_table_sql, insert_sql
    from footfall.stores.ch_views import migration_statements
    from footfall.stores.migrate import load_migrations

    session = chdb_session.Session(str(tmp_path / "chdb"))
    try:

        def run(query: str) -> str:
            out = session.query(query, "TabSeparated")
            return (out.bytes().decode() if hasattr(out, "bytes") else str(out)).strip()

        run("CREATE DATABASE IF NOT EXISTS ff")
        run("USE ff")
        for m in load_migrations("clickhouse"):
            for stmt in migration_statements(m):
                run(stmt)
        run(buffer_table_sql("ff", 10))
        run(insert_sql(["id", "ts", "site", "name"], "events_buffer") + " ('a', 5, 's', 'n')")
        assert run(BUFFERED["COUNT"].format(where="")) == "1"
        assert (
            run(
                f"SELECT id FROM ({BUFFERED['SELECT_PAGE']})".replace("{where}", "")
                .replace("%(limit)s", "10")
                .replace("%(offset)s", "0")
            )
            == "a"
        )
        driver = pytest.importorskip("clickhouse_driver").Client("127.0.0.1")
        run("CREATE TABLE _batch (id String) ENGINE = Memory")
        run("INSERT INTO _batch VALUES ('a'), ('b')")
        params = {"lo": 0, "hi": 10, "sites": ("s", "t")}
        context = driver.connection.context
        check = driver.substitute_params(BUFFERED["EXISTING_IDS"], params, context)
        assert run(check) == "a"
        probe = driver.substitute_params(BUFFERED["ANY_IN_RANGE"], params, context)
        assert run(probe) == "1"
        run("OPTIMIZE TABLE events_buffer")
        assert run("SELECT count() FROM events") == "1"
    finally:
        session.close()


def test_stats_include_events_still_in_the_buffer(tmp_path: Path) -> None:
    from tests.stores.backends import clickhouse_buffered_store

    from footfall import stats
    from footfall.stats.model import build_query

    store: Any = clickhouse_buffered_store(tmp_path)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    try:
        events = [
            Event(
                name="pageview",
                ts=now - timedelta(seconds=60 - i),
                site="s.example",
                path=f"/{i % 3}",
                visitor_id=f"v{i % 4}",
                visit_id=f"v{i % 4}-1",
            )
            for i in range(12)
        ]
        assert store.write(events) == 12
        assert store.client.execute("SELECT count() FROM events") == [(0,)]  # all buffered
        day = now.date().isoformat()
        got = stats.query(
            store, "s.example", period="day", date=day, metrics="visitors,pageviews,visits"
        )
        assert (got["visitors"], got["pageviews"], got["visits"]) == (4, 12, 4)
        assert stats.realtime_visitors(store, "s.example", now) == 4
        assert sum(p["visitors"] for p in stats.current_pages(store, "s.example", now)) == 4
        q = build_query("s.example", period="day", date=day, tz="UTC")
        steps = stats.funnel(store, q, ["event:page==/0", "event:page==/1"])
        assert steps["entering_visitors"] == 4
    finally:
        store.close()
