"""`clickhouse://...?cluster=NAME`: footfall's schema on every shard, reads and writes
through Distributed tables, on a real two-shard 18.16 cluster (tests/clickhouse_cluster.py)
and on current ClickHouse (chDB as a one-shard cluster of itself).

The raw stats on the cluster (every filter, breakdown, interval, funnel) are
compared with SQLite's in tests/stores/test_stats_backends.py; here: the DDL,
where rows land, duplicates, deletes, and the summaries.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from tests.stats.dataset import UTC_SITE, build
from tests.stores.backends import clickhouse_cluster_store
from tests.stores.test_ch_summaries import _differences, _write

from footfall import connect
from footfall.errors import ConfigurationError
from footfall.event import Event
from footfall.stats.summaries import clickhouse_compact
from footfall.stores import ch_cluster
from footfall.stores.ch_views import MV_SELECTS, view_ddl

pytest.importorskip("clickhouse_driver", reason="pip install footfall[clickhouse]")


@pytest.fixture(scope="module")
def dataset() -> list[Event]:
    return build()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Any]:
    made = clickhouse_cluster_store(tmp_path)
    yield made
    made.close()


@pytest.fixture
def reference(tmp_path: Path) -> Iterator[Any]:
    made = connect(f"sqlite:///{tmp_path / 'ref.db'}")
    yield made
    made.close()


def _per_shard(store: Any, sql: str) -> list[list[Any]]:
    """`sql`'s rows on each server of the store's cluster, in host order."""
    out = []
    for host in ch_cluster.hosts(store.client, store.cluster):
        with ch_cluster.on_host(store.driver_url, host, store.database) as client:
            out.append(list(client.execute(sql)))
    return out


def test_local_statements_rename_tables_not_columns() -> None:
    tables = ch_cluster.table_names()
    sql = ch_cluster.local_statement(view_ddl("stats_hours"), tables)
    assert sql.startswith(
        "CREATE MATERIALIZED VIEW IF NOT EXISTS stats_hours_mv TO stats_hours_local"
    )
    assert "FROM events_local" in sql
    assert "countState() AS events," in sql  # the column named like the table stays
    assert MV_SELECTS["stats_hours"].count("events") == sql.count("events")


def test_cluster_parameter_is_checked() -> None:
    from footfall.stores.clickhouse import ClickHouseStore

    with pytest.raises(ConfigurationError, match="cluster must match"):
        ClickHouseStore("clickhouse://127.0.0.1:9000/db?cluster=a;DROP")
    with pytest.raises(ConfigurationError, match="buffer_seconds"):
        ClickHouseStore("clickhouse://127.0.0.1:9000/db?cluster=c&buffer_seconds=5")


def test_an_unknown_cluster_is_named(store: Any) -> None:
    from footfall.stores.clickhouse import ClickHouseStore

    other = ClickHouseStore(store.url.replace(f"cluster={store.cluster}", "cluster=nosuch"))
    try:
        with pytest.raises(ConfigurationError, match="no cluster 'nosuch'"):
            other.migrate()
    finally:
        other.close()


def test_migrate_creates_local_tables_views_and_distributed_tables_on_every_shard(
    store: Any,
) -> None:
    shards = _per_shard(
        store, "SELECT name, engine FROM system.tables WHERE database = currentDatabase()"
    )
    assert len(shards) == 2
    for tables in shards:
        engines = dict(tables)
        for table in ch_cluster.table_names():
            assert engines[table] == "Distributed"
            assert engines[f"{table}_local"].endswith("MergeTree")
        for table in MV_SELECTS:
            assert engines[f"{table}_mv"] == "MaterializedView"
    assert store.migrate() == []  # every server has every version: nothing to do


def test_events_spread_over_both_shards_and_a_batch_delivered_twice_adds_nothing(
    store: Any, dataset: list[Event]
) -> None:
    from footfall.stores.clickhouse import ClickHouseStore

    _write(store, dataset)
    per_shard = [rows[0][0] for rows in _per_shard(store, "SELECT count() FROM events_local")]
    assert all(n > 0 for n in per_shard) and sum(per_shard) == len(dataset)
    # The same batch again, through this server and through the other shard's:
    # the id check reads every shard through `events`.
    assert store.write(dataset[100:400]) == 0
    port = ch_cluster.hosts(store.client, store.cluster)[1][1]
    where = urlsplit(store.url)
    other = ClickHouseStore(where._replace(netloc=f"127.0.0.1:{port}").geturl())
    try:
        assert other.write(dataset[300:700]) == 0
        assert other.count() == len(dataset)
    finally:
        other.close()
    again = [rows[0][0] for rows in _per_shard(store, "SELECT count() FROM events_local")]
    assert again == per_shard


def test_a_visitors_events_and_visits_stay_on_one_shard(store: Any, dataset: list[Event]) -> None:
    _write(store, dataset, size=500)
    visitors, visits = (
        [
            {r[0] for r in rows}
            for rows in _per_shard(store, f"SELECT DISTINCT {c} FROM events_local")
        ]
        for c in ("visitor_id", "visit_id")
    )
    assert not (visitors[0] & visitors[1] - {""})
    assert not (visits[0] & visits[1] - {""})


def test_delete_visitor_and_purge_reach_every_shard(
    store: Any, reference: Any, dataset: list[Event]
) -> None:
    _write(store, dataset, size=500)
    _write(reference, dataset)
    for visitor in (f"{UTC_SITE[:3]}-v1", f"{UTC_SITE[:3]}-v2"):
        assert store.delete_visitor(visitor) == reference.delete_visitor(visitor) > 0
    cut = sorted(e.ts for e in dataset)[len(dataset) // 2]
    assert store.purge(cut) == reference.purge(cut) > 0
    assert store.count() == reference.count()


def _chdb_cluster(tmp_path: Path) -> Any:
    pytest.importorskip("chdb", reason="chdb is a dev dependency")
    from tests.stores.chdb_store import ChdbStore

    return ChdbStore(tmp_path / "chdb", cluster=True)


@pytest.mark.parametrize("backend", ["clickhouse-cluster", "clickhouse-chdb-cluster"])
def test_summaries_on_a_cluster_agree_with_sqlite(
    backend: str, tmp_path: Path, reference: Any, dataset: list[Event]
) -> None:
    """Shard-local views, merged through the Distributed tables; compaction
    writes through them: live, compacted, and changed by late events."""
    made = (clickhouse_cluster_store if backend == "clickhouse-cluster" else _chdb_cluster)(
        tmp_path
    )
    try:
        first, late = dataset[:-80], dataset[-80:]
        _write(made, first, size=500)
        _write(reference, dataset)
        assert clickhouse_compact.compact(made, settle=0) > 0
        _write(made, late, size=7)
        assert _differences(reference, made) == []
        assert clickhouse_compact.compact(made, settle=0) > 0
        assert _differences(reference, made) == []
    finally:
        made.close()


def test_a_delete_then_a_rebuild_on_a_cluster(
    store: Any, reference: Any, dataset: list[Event]
) -> None:
    """The delete marks the site incomplete; the rebuild clears each shard's
    summary rows (mutations of the `_local` tables) and refills them."""
    from tests.stores.test_ch_summaries import CUSTOM

    from footfall import stats
    from footfall.stats.errors import StatsError
    from footfall.stats.summaries.rebuild import rebuild
    from footfall.stores.base import EventFilter

    _write(store, dataset, size=500)
    _write(reference, dataset)
    clickhouse_compact.compact(store, settle=0)
    visitor = f"{UTC_SITE[:3]}-v1"
    assert store.delete_visitor(visitor, site=UTC_SITE) == reference.delete_visitor(
        visitor, site=UTC_SITE
    )
    with pytest.raises(StatsError, match="not complete"):
        stats.query(store, UTC_SITE, period="custom", date=CUSTOM, tz="UTC", engine="summary")
    assert rebuild(store, UTC_SITE) == store.count(filters=EventFilter(site=UTC_SITE))
    assert _differences(reference, store) == []


def test_a_later_column_change_reaches_local_and_distributed_tables() -> None:
    """A migration's `ALTER TABLE events ADD COLUMN` must change each shard's
    `events_local` and the Distributed `events` over it, or reads lose the column."""
    tables = ch_cluster.table_names()
    stmt = "ALTER TABLE events ADD COLUMN IF NOT EXISTS extra String"
    assert ch_cluster.local_statement(stmt, tables) == stmt.replace("events", "events_local", 1)
    assert ch_cluster.distributed_alter(stmt, tables) == "events"
    assert ch_cluster.distributed_alter("ALTER TABLE events MODIFY TTL x", tables) is None
