"""The ClickHouse schema on a cluster: local tables on every shard, Distributed over them.

`clickhouse://host:9000/db?cluster=NAME` keeps each table of the single-server
schema as `<table>_local` on every server of NAME and puts a `Distributed`
table of the plain name over them, so every statement the store and the stats
engine send (`events`, `stats_hours`, ...) runs unchanged through any server.
The summaries' materialized views read each shard's `events_local` and write
its `stats_*_local` tables: each shard summarises its own inserts, and reads
merge the states across shards (docs/clickhouse-cluster.md).

`ON CLUSTER` DDL needs ZooKeeper/Keeper (18.16 answers "DDL background thread
is not initialized" without it), so the DDL is applied here, server by server,
to every host `system.clusters` lists for NAME - unreplicated shards need
nothing else. Every statement is idempotent (IF NOT EXISTS), and each server
keeps its own `footfall_migrations`, so a server added later, or one that was
down, is brought up to date by the next `footfall migrate`.

Sharding: `events` by `cityHash64(site, visitor_id)`. An event and its
re-deliveries share site and visitor, so they land on one shard, where the id
check finds them and ReplacingMergeTree collapses two racing copies; and every
event of a visit (one visitor) is on one shard, so the views' visit parts are
whole there. The other tables are only read through merges (-Merge states,
argMax by version), which are right whichever shard holds a row; they shard by
site.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from clickhouse_driver import Client

from footfall.errors import ConfigurationError
from footfall.stores.ch_views import view_ddl
from footfall.stores.migrate import Migration, load_migrations

__all__ = [
    "EVENTS_SHARDING_KEY",
    "SETTINGS",
    "Host",
    "distributed_alter",
    "distributed_ddl",
    "hosts",
    "local_statement",
    "local_view_ddl",
    "on_host",
    "table_names",
]

EVENTS_SHARDING_KEY = "cityHash64(site, visitor_id)"
_OTHER_SHARDING_KEY = "cityHash64(site)"
_STATE_SHARDING_KEY = "cityHash64(key)"  # stats_state has no site column
# Client settings for every query through the Distributed tables:
# - a write returns once every shard has stored its rows (not when the
#   initiator queued them), so the id check and the stats see it at once and a
#   worker acknowledges only stored events;
# - an IN/JOIN subquery over a Distributed table is run once and its result
#   shipped to the shards ("global"), right whatever the sharding key.
SETTINGS = {"insert_distributed_sync": 1, "distributed_product_mode": "global"}
_CLUSTERS = "SELECT host_address, port FROM system.clusters WHERE cluster = %(name)s"
_CREATE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+)")
Host = tuple[str, int]


def table_names(migrations: list[Migration] | None = None) -> list[str]:
    """Every table the ClickHouse migrations create, in order (`footfall_migrations` aside)."""
    out: list[str] = []
    for m in migrations if migrations is not None else load_migrations("clickhouse"):
        for stmt in m.statements:
            out += [t for t in _CREATE.findall(stmt) if t not in out]
    return out


def local_statement(stmt: str, tables: list[str]) -> str:
    """`stmt` with every table reference (CREATE, ALTER, TO, FROM, INSERT INTO) renamed
    to the shard's `<table>_local`; columns of the same name (`events`) are untouched."""
    names = "|".join(sorted(map(re.escape, tables), key=len, reverse=True))
    pattern = re.compile(
        rf"(CREATE TABLE IF NOT EXISTS|ALTER TABLE|\bTO|\bFROM|INSERT INTO)\s+({names})\b(?!_)"
    )
    return pattern.sub(lambda m: f"{m.group(1)} {m.group(2)}_local", stmt)


def distributed_alter(stmt: str, tables: list[str]) -> str | None:
    """For a migration's `ALTER TABLE t ... COLUMN ...`: `t`, whose Distributed table
    must take the same change (its columns mirror the local table's); else None."""
    m = re.match(r"\s*ALTER TABLE (\w+)\b", stmt)
    if m and m.group(1) in tables and re.search(r"\bCOLUMN\b", stmt):
        return m.group(1)
    return None


def distributed_ddl(table: str, cluster: str, database: str) -> str:
    """The Distributed table `table` over every shard's `<table>_local` (names allow-listed)."""
    key = {"events": EVENTS_SHARDING_KEY, "stats_state": _STATE_SHARDING_KEY}.get(
        table, _OTHER_SHARDING_KEY
    )
    return (
        f"CREATE TABLE IF NOT EXISTS {table} AS {table}_local "
        f"ENGINE = Distributed({cluster}, {database}, {table}_local, {key})"
    )


def local_view_ddl(table: str, tables: list[str]) -> str:
    """The materialized view filling `table`'s shard-local part from `events_local`."""
    return local_statement(view_ddl(table), tables)


def hosts(client: Client, cluster: str) -> list[Host]:
    """Every server of `cluster` (each replica of each shard), as `system.clusters` lists it."""
    rows = client.execute(_CLUSTERS, {"name": cluster})
    if not rows:
        raise ConfigurationError(
            f"ClickHouse has no cluster {cluster!r} in system.clusters (remote_servers)"
        )
    return sorted({(str(h), int(p)) for h, p in rows})


@contextmanager
def on_host(driver_url: str, host: Host, database: str = "default") -> Iterator[Any]:
    """A client to one server of the cluster, with the URL's user, password and settings."""
    parts = urlsplit(driver_url)
    auth = parts.netloc.rpartition("@")[0]
    name = f"[{host[0]}]" if ":" in host[0] else host[0]
    netloc = f"{auth}@{name}:{host[1]}" if auth else f"{name}:{host[1]}"
    client = Client.from_url(urlunsplit(parts._replace(netloc=netloc, path=f"/{database}")))
    try:
        yield client
    finally:
        client.disconnect()
