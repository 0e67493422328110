"""PostgreSQL and ClickHouse for the store contract suite (tests/stores/conftest.py).

Each test gets its own PostgreSQL schema / ClickHouse database, dropped when the
store closes, so tests never see each other's rows in the shared servers.
A missing server skips the test with the reason, or fails it under
FOOTFALL_REQUIRE_SERVICES=1 (tests/services.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from tests.clickhouse_server import clickhouse_url, why_unavailable
from tests.services import POSTGRES_URL, need_port, need_postgres, unavailable

from footfall.stores import Store


def _unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def postgres_store(tmp_path: Path) -> Store:
    """A PostgresStore in a fresh schema of the shared test database."""
    pytest.importorskip("psycopg", reason="pip install footfall[postgres]")
    import psycopg

    from footfall.stores.postgres import PostgresStore

    need_postgres()
    schema = _unique("ff_test")

    class ThrowawayPostgresStore(PostgresStore):
        def close(self) -> None:
            super().close()
            with psycopg.connect(self.conninfo, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    sep = "&" if "?" in POSTGRES_URL else "?"
    store = ThrowawayPostgresStore(f"{POSTGRES_URL}{sep}schema={schema}&pool_size=4")
    store.migrate()
    return store


def clickhouse_store(tmp_path: Path, query: str = "") -> Store:
    """A ClickHouseStore in a fresh database of the session's test server."""
    pytest.importorskip("clickhouse_driver", reason="pip install footfall[clickhouse]")
    from footfall.stores.clickhouse import ClickHouseStore

    base = clickhouse_url()
    if base is None:
        unavailable(why_unavailable())
        raise AssertionError("unreachable")  # unavailable() skips or fails
    where = urlsplit(base)
    need_port("ClickHouse", where.hostname or "127.0.0.1", where.port or 9000)
    database = _unique("ff_test")

    class ThrowawayClickHouseStore(ClickHouseStore):
        def close(self) -> None:
            try:
                self.client.execute(f"DROP DATABASE IF EXISTS {database}")
            finally:
                super().close()

    store = ThrowawayClickHouseStore(base.rsplit("/", 1)[0] + "/" + database + query)
    store.migrate()
    return store


def clickhouse_buffered_store(tmp_path: Path) -> Store:
    """The same with the opt-in Buffer table in front of `events` (held up to 60 s)."""
    return clickhouse_store(tmp_path, "?buffer_seconds=60")


def clickhouse_cluster_store(tmp_path: Path, query: str = "") -> Store:
    """A ClickHouseStore over the two-shard test cluster (tests/clickhouse_cluster.py),
    in a fresh database on every shard."""
    pytest.importorskip("clickhouse_driver", reason="pip install footfall[clickhouse]")
    from tests import clickhouse_cluster

    from footfall.stores import ch_cluster
    from footfall.stores.clickhouse import ClickHouseStore

    base = clickhouse_cluster.cluster_url()
    if base is None:
        unavailable(clickhouse_cluster.why_unavailable())
        raise AssertionError("unreachable")  # unavailable() skips or fails
    parts = urlsplit(base)
    database = _unique("ff_cluster")

    class ThrowawayClusterStore(ClickHouseStore):
        def close(self) -> None:
            try:
                for host in ch_cluster.hosts(self.client, self.cluster or ""):
                    with ch_cluster.on_host(self.driver_url, host) as client:
                        client.execute(f"DROP DATABASE IF EXISTS {database}")
            finally:
                super().close()

    url = parts._replace(path=f"/{database}").geturl() + (f"&{query}" if query else "")
    store = ThrowawayClusterStore(url)
    store.migrate()
    return store


EXTRA_FACTORIES: dict[str, Callable[[Path], Store]] = {
    "postgres": postgres_store,
    "clickhouse": clickhouse_store,
    "clickhouse-buffered": clickhouse_buffered_store,
}
