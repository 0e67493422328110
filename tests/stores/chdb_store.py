"""The ClickHouse store's SQL, run in process on current ClickHouse (chDB).

Debian's clickhouse-server is 18.16; chDB embeds the current release. This
adapter writes and queries with the ClickHouse store's own statements
(footfall.stores.ch_sql, parameters substituted by clickhouse-driver as on
the wire) and the stats engine's ClickHouse dialect, so tests can prove that
SQL valid - and its answers equal to SQLite's - on current ClickHouse.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from footfall.event import Event
from footfall.stats.dialect import Dialect
from footfall.stores.base import SUMMARIES_VIEWS
from footfall.stores.ch_sql import EXISTING_IDS, INSERT
from footfall.stores.ch_views import migration_statements
from footfall.stores.migrate import load_migrations
from footfall.stores.rows import row_encoder, to_micros

_encode = row_encoder(ts=to_micros, boolean=int)
CLUSTER = "footfall_local"
# chDB listens on no port; naming its own (unused) port as the only shard makes
# that shard local, so Distributed tables read and write chDB's own tables.
# The profile holds the settings a cluster store's client sets
# (footfall.stores.ch_cluster.SETTINGS).
_CLUSTER_CONFIG = """<clickhouse>
  <tcp_port>19999</tcp_port>
  <remote_servers><{name}><shard><replica><host>127.0.0.1</host><port>19999</port></replica>
  </shard></{name}></remote_servers>
  <profiles><default>{settings}</default></profiles>
</clickhouse>
"""


def _cluster_config(path: Path) -> Path:
    from footfall.stores.ch_cluster import SETTINGS

    settings = "".join(f"<{k}>{v}</{k}>" for k, v in SETTINGS.items())
    config = path.with_name(path.name + ".xml")
    config.write_text(_CLUSTER_CONFIG.format(name=CLUSTER, settings=settings))
    return config


class ChdbStore:
    """Just enough of a Store for the stats engine: write, query, stats_dialect."""

    # What footfall.stores.base.Store declares, as a ClickHouse store without a TTL:
    dialect = "clickhouse"
    paramstyle = "pyformat"
    threadsafe = False  # one chDB session: the summaries compact inline, not on a thread
    summaries = SUMMARIES_VIEWS
    retention_days = None
    holds_meta = False  # events only, as ClickHouse
    meta_store: Any = None  # a metadata store put here stands for `Store.attach_meta`
    driver_errors: tuple[type[Exception], ...] = ()

    def __init__(self, path: Path, cluster: bool = False) -> None:
        """`cluster`: the schema of `?cluster=` (footfall.stores.ch_cluster) on a
        one-shard cluster of chDB itself, every read and write through Distributed."""
        from chdb import session
        from clickhouse_driver import Client

        from footfall.stores import ch_cluster

        self._driver = Client("127.0.0.1")  # never connects: used to escape parameters
        where = f"{path}?config-file={_cluster_config(path)}" if cluster else str(path)
        self.session = session.Session(where)
        self.url = f"chdb://{path}"
        self.location = self.url
        tables = ch_cluster.table_names()
        for migration in load_migrations("clickhouse"):
            for stmt in migration_statements(migration):
                self._run(ch_cluster.local_statement(stmt, tables) if cluster else stmt)
        if cluster:
            for table in tables:
                self._run(ch_cluster.distributed_ddl(table, CLUSTER, "default"))
        self._run("CREATE TABLE IF NOT EXISTS _batch (id String) ENGINE = Memory")

    def _sql(self, query: str, params: dict[str, Any] | None) -> str:
        if not params:
            return query
        return str(self._driver.substitute_params(query, params, self._driver.connection.context))

    def _run(self, query: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
        text = self._sql(query, params)
        out = self.session.query(text, "JSONCompact")
        raw = out.bytes() if hasattr(out, "bytes") else str(out).encode()
        if not raw.strip():
            return []
        data: list[list[Any]] = json.loads(raw)["data"]
        return data

    def write(self, events: Sequence[Event]) -> int:
        unique = {e.id: e for e in reversed(events)}
        rows = [_encode(e) for e in unique.values()]
        self._run("TRUNCATE TABLE _batch")
        self._run(
            "INSERT INTO _batch VALUES "
            + ", ".join(f"({self._sql('%(i)s', {'i': i})})" for i in unique)
        )
        stamps = [to_micros(e.ts) for e in unique.values()]
        known = {
            r[0]
            for r in self._run(
                EXISTING_IDS,
                {
                    "sites": tuple({e.site for e in unique.values()}),
                    "lo": min(stamps),
                    "hi": max(stamps),
                },
            )
        }
        rows = [r for r, i in zip(rows, unique, strict=True) if i not in known]
        if rows:
            values = ", ".join(
                "(" + ", ".join(self._sql("%(v)s", {"v": v}) for v in r) + ")" for r in rows
            )
            self._run(f"{INSERT} {values}")
        return len(rows)

    def query(
        self, query: str, params: Sequence[Any] | dict[str, Any] = ()
    ) -> list[tuple[Any, ...]]:
        if isinstance(params, dict):
            named = params
        else:
            named = {f"p{i}": v for i, v in enumerate(params, start=1)}
        return [tuple(r) for r in self._run(query, named)]

    def meta_home(self) -> Any:
        """Where its sites, tokens and processor state live (`Store.meta_home`)."""
        return self.meta_store if self.meta_store is not None else self

    def processor_state(self) -> None:
        """None: no shared state here, as a ClickHouse store (`Store.processor_state`)."""
        return None

    def stats_dialect(self) -> Dialect:
        from footfall.stats.dialect_clickhouse import ClickHouseDialect

        return ClickHouseDialect()

    def close(self) -> None:
        self.session.close()
