"""ClickHouse store: the path beyond one machine (native protocol, clickhouse-driver).

Events live in a ReplacingMergeTree partitioned by UTC month and sorted by
(site, day, visitor, ts, id) - see migrations/clickhouse/0001_events.sql.

Duplicates (docs/stores.md says more): `write` keeps the contract "an event
whose id is stored is skipped, return how many were new" by asking, before
each insert, which of the batch's ids are already there. That lookup is cheap
because it is bounded by the batch's sites and time range (the sort key and
the partition min/max prune everything else, and PREWHERE on ts reads the id
column only where a timestamp could match). What it cannot close is two
writers inserting the same event at the same instant; those two rows are
identical, share a sort key, and the ReplacingMergeTree merge keeps one.
Within one process writes are serialised, so only two processes delivering
the same event in the same few milliseconds (a redelivery racing the
original) can leave such a pair until the merge.

Deletes are mutations (`ALTER TABLE ... DELETE`), which are asynchronous on
every ClickHouse version; the store waits for its own mutation to finish so
that `delete_visitor` returns with the data gone, as the contract requires.

Many small inserts (the delivery worker hands over at most 1,000 events, a
stream worker ~10,000) make many small parts: each insert writes one part,
i.e. two files per column, and on a slow disk that file creation, not the
data, is what an insert costs. `?buffer_seconds=N` (opt-in) puts a Buffer
table in front of `events`: writes land in the server's memory and reach
`events` as one part per flush (at most every N seconds, or at 1M rows).
Reads, the duplicate check, deletes and the stats engine (through
`stats_dialect()`) go through it, so they see buffered events; the price is
ClickHouse's own: a server crash loses what the buffer held (at most N
seconds). docs/stores.md says more.

URL: `clickhouse://user:password@host:9000/database?retention_days=400`
(`&buffer_seconds=10` to buffer; `&cluster=NAME` for the tables of a cluster,
footfall.stores.ch_cluster). Extra query parameters are
clickhouse-driver settings (`compression=lz4`, ...).
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from clickhouse_driver import Client
from clickhouse_driver.errors import Error as ClickHouseError
from clickhouse_driver.errors import ErrorCodes, ServerException

from footfall.errors import ConfigurationError
from footfall.event import Event
from footfall.redact import redact_url
from footfall.stores import ch_cluster, hooks, keyset
from footfall.stores.base import SUMMARIES_VIEWS, EventFilter, Store, page_window
from footfall.stores.budget import current as current_budget
from footfall.stores.ch_columns import columns
from footfall.stores.ch_sql import (
    ANY_IN_RANGE,
    BUFFER,
    BUFFERED,
    COUNT,
    EXISTING_IDS,
    SELECT_PAGE,
    buffer_table_sql,
    delete_sql,
    insert_sql,
    retention_ttl_sql,
)
from footfall.stores.ch_views import (
    MARK_ALL_INCOMPLETE,
    VIEW_TABLES,
    migration_statements,
    view_ddl,
)
from footfall.stores.migrate import pending_migrations
from footfall.stores.rows import row_to_event, to_micros
from footfall.stores.sqltext import PYFORMAT, events_condition, events_where

__all__ = ["ClickHouseStore", "split_url", "summaries_enabled"]

log = logging.getLogger("footfall.stores")

MUTATION_TIMEOUT_S = 120.0  # longest wait for our own ALTER ... DELETE
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_TTL_SINCE = (19, 6)  # first ClickHouse release with table TTL
MAX_QUERY_SIZE = 64 << 20  # bytes of SQL text the client allows (unless the URL says)
MAX_BUFFER_SECONDS = 3600  # longest a Buffer table may hold events (buffer_seconds)
_PLAIN_SQL = {
    "COUNT": COUNT,
    "SELECT_PAGE": SELECT_PAGE,
    "EXISTING_IDS": EXISTING_IDS,
    "ANY_IN_RANGE": ANY_IN_RANGE,
}


def split_url(url: str) -> tuple[str, str, int | None]:
    """`(driver URL, database, retention days)`, footfall's parameters removed."""
    parts = urlsplit(url)
    database = parts.path.strip("/") or "default"
    if not _IDENT.match(database):
        raise ConfigurationError(f"ClickHouse database must match {_IDENT.pattern}: {database!r}")
    retention: int | None = None
    kept: list[tuple[str, str]] = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key == "retention_days":
            try:
                retention = int(value)
            except ValueError:
                raise ConfigurationError(f"retention_days must be an integer: {value!r}") from None
            if retention < 1:
                raise ConfigurationError("retention_days must be at least 1")
        elif key not in ("buffer_seconds", "summaries", "cluster"):  # read by their own functions
            kept.append((key, value))
    return urlunsplit(parts._replace(query=urlencode(kept))), database, retention


def buffer_seconds(url: str) -> int | None:
    """The URL's `buffer_seconds=N` (1..MAX_BUFFER_SECONDS), or None: no Buffer table."""
    for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        if key == "buffer_seconds":
            try:
                seconds = int(value)
            except ValueError:
                raise ConfigurationError(f"buffer_seconds must be an integer: {value!r}") from None
            if not 1 <= seconds <= MAX_BUFFER_SECONDS:
                raise ConfigurationError(f"buffer_seconds must be 1..{MAX_BUFFER_SECONDS}")
            return seconds
    return None


def cluster_name(url: str) -> str | None:
    """The URL's `cluster=NAME` (a `remote_servers` entry), or None: one server."""
    for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        if key == "cluster":
            if not _IDENT.match(value):
                raise ConfigurationError(f"cluster must match {_IDENT.pattern}: {value!r}")
            return value
    return None


_ON, _OFF = frozenset({"1", "on", "true", "yes"}), frozenset({"0", "off", "false", "no"})


def summaries_enabled(url: str) -> bool:
    """The URL's `summaries=on|off` (default on): `off` drops the stats views, so
    inserts cost less and stats use raw SQL (an ingest-only node, a cluster's
    insert path)."""
    for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        if key == "summaries":
            if value.lower() in _ON:
                return True
            if value.lower() in _OFF:
                return False
            raise ConfigurationError(f"summaries must be on or off: {value!r}")
    return True


class ClickHouseStore(Store):
    """Events in ClickHouse; one native-protocol client per thread."""

    dialect: ClassVar[str] = "clickhouse"
    paramstyle: ClassVar[str] = PYFORMAT
    # Every INSERT makes a part per table (events and each stats view), and the
    # server's cost per part dwarfs its cost per row
    # (docs/decisions/0012-store-preferred-batch-size.md).
    preferred_batch_size: ClassVar[int | None] = 50_000
    driver_errors: ClassVar[tuple[type[Exception], ...]] = (ClickHouseError, OSError, EOFError)

    def __init__(self, url: str) -> None:
        self.url = url
        self.driver_url, self.database, self.retention_days = split_url(url)
        self.buffer_seconds = buffer_seconds(url)
        self.cluster = cluster_name(url)
        if self.cluster and self.buffer_seconds:
            raise ConfigurationError("buffer_seconds is for one server, not with cluster=")
        self.summary_views = summaries_enabled(url)  # whether the stats views exist
        # The views answer stats only when they see every accepted event: not
        # behind a Buffer table, which hands them rows only when it flushes.
        self.summaries = SUMMARIES_VIEWS if self.summary_views and not self.buffer_seconds else ""
        self._table = BUFFER if self.buffer_seconds else "events"  # where writes go
        self._sql = BUFFERED if self.buffer_seconds else _PLAIN_SQL  # reads see the buffer
        self._local = threading.local()
        self._all: list[Client] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._pid = os.getpid()
        self._database_ready = False
        self._version: tuple[int, ...] | None = None

    # -- connections --------------------------------------------------------
    def _ensure_database(self) -> None:
        if self._database_ready:
            return
        base = urlsplit(self.driver_url)._replace(path="/default")
        admin = Client.from_url(urlunsplit(base))
        try:
            admin.execute(f"CREATE DATABASE IF NOT EXISTS {self.database}")  # name allow-listed
        finally:
            admin.disconnect()
        self._database_ready = True

    @property
    def client(self) -> Client:
        """This thread's client (a forked child opens its own)."""
        if self._pid != os.getpid():
            self._local, self._all, self._pid = threading.local(), [], os.getpid()
            self._lock, self._write_lock = threading.Lock(), threading.Lock()
        client: Client | None = getattr(self._local, "client", None)
        if client is None:
            self._ensure_database()
            client = Client.from_url(self.driver_url)
            # The summaries' breakdowns name each compacted hour they read (25
            # bytes an hour): past ~14 months that exceeds the 256 KiB default.
            client.settings.setdefault("max_query_size", MAX_QUERY_SIZE)
            if self.cluster:
                client.settings.update(ch_cluster.SETTINGS)
            self._local.client = client
            with self._lock:
                self._all.append(client)
        return client

    def query(self, query: str, params: dict[str, Any] | Sequence[Any] | None = None) -> list[Any]:
        """Run a read query with `%(name)s` parameters (escaped by the driver).

        A sequence binds `%(p1)s`, `%(p2)s`, ... in order (the stats engine's
        ClickHouse dialect writes those).
        """
        if params is not None and not isinstance(params, dict):
            params = {f"p{i}": v for i, v in enumerate(params, start=1)}
        budget = current_budget()
        if budget is None:
            return list(self.client.execute(query, params or {}))
        # Under a time budget (footfall.stores.budget) the server stops the query
        # at the deadline; max_execution_time counts whole seconds on old servers.
        settings = {"max_execution_time": max(1, math.ceil(budget.left()))}
        try:
            return list(self.client.execute(query, params or {}, settings=settings))
        except ServerException as exc:
            if exc.code == ErrorCodes.TIMEOUT_EXCEEDED:
                raise budget.exceeded() from None
            raise

    @property
    def events_table(self) -> str:
        """The table reads and writes go through: the Buffer table, or `events`."""
        return self._table

    @property
    def server_version(self) -> tuple[int, ...]:
        if self._version is None:
            text = str(self.client.execute("SELECT version()")[0][0])
            self._version = tuple(int(p) for p in text.split(".")[:2] if p.isdigit())
        return self._version

    # -- contract -----------------------------------------------------------
    def migrate(self) -> list[str]:
        if self.cluster:
            return self._migrate_cluster(self.cluster)
        client = self.client
        # No locks in ClickHouse: every statement is idempotent (IF NOT EXISTS),
        # so two processes migrating at once at worst both record a version.
        client.execute(
            "CREATE TABLE IF NOT EXISTS footfall_migrations "
            "(version UInt32, name String, applied_at DateTime) "
            "ENGINE = MergeTree ORDER BY version"
        )
        done = {r[0] for r in client.execute("SELECT version FROM footfall_migrations")}
        applied: list[str] = []
        for m in pending_migrations(self.dialect, done):
            for stmt in migration_statements(m):
                client.execute(stmt)
            client.execute(
                "INSERT INTO footfall_migrations (version, name, applied_at) VALUES",
                [(m.version, m.name, datetime.now(timezone.utc).replace(tzinfo=None))],
            )
            applied.append(m.label)
        self._sync_views(fresh=any(label.startswith("0002_") for label in applied))
        if self.buffer_seconds:
            if applied:  # `events` may have changed: rebuild its Buffer (DROP flushes it)
                client.execute(f"DROP TABLE IF EXISTS {BUFFER}")
            client.execute(buffer_table_sql(self.database, self.buffer_seconds))
        self._apply_retention()
        return applied

    def _migrate_cluster(self, cluster: str) -> list[str]:
        """Apply the schema to every server of `cluster`, one by one (no ON CLUSTER:
        that needs ZooKeeper): shard-local tables and views, then the Distributed
        tables over them. Returns the migrations applied on any server."""
        tables = ch_cluster.table_names()
        applied: list[str] = []
        views_added = False
        for host in ch_cluster.hosts(self.client, cluster):
            with ch_cluster.on_host(self.driver_url, host) as admin:
                admin.execute(f"CREATE DATABASE IF NOT EXISTS {self.database}")  # allow-listed
            with ch_cluster.on_host(self.driver_url, host, self.database) as client:
                client.execute(
                    "CREATE TABLE IF NOT EXISTS footfall_migrations "
                    "(version UInt32, name String, applied_at DateTime) "
                    "ENGINE = MergeTree ORDER BY version"
                )
                done = {r[0] for r in client.execute("SELECT version FROM footfall_migrations")}
                fresh = False
                for m in pending_migrations(self.dialect, done):
                    for stmt in migration_statements(m):
                        client.execute(ch_cluster.local_statement(stmt, tables))
                        altered = ch_cluster.distributed_alter(stmt, tables)
                        if altered and client.execute(f"EXISTS TABLE {altered}")[0][0]:
                            client.execute(stmt)  # the Distributed table mirrors it
                    client.execute(
                        "INSERT INTO footfall_migrations (version, name, applied_at) VALUES",
                        [(m.version, m.name, datetime.now(timezone.utc).replace(tzinfo=None))],
                    )
                    fresh = fresh or m.label.startswith("0002_")
                    if m.label not in applied:
                        applied.append(m.label)
                for table in tables:
                    client.execute(ch_cluster.distributed_ddl(table, cluster, self.database))
                views_added = (self._sync_local_views(client, tables) and not fresh) or views_added
                if self.retention_days is not None and self.server_version >= _TTL_SINCE:
                    client.execute(retention_ttl_sql(self.retention_days, "events_local"))
        if views_added:
            self.client.execute(MARK_ALL_INCOMPLETE)
        if self.retention_days is not None and self.server_version < _TTL_SINCE:
            self._apply_retention()  # only warns: no TTL before 19.6
        return applied

    def _sync_local_views(self, client: Client, tables: list[str]) -> bool:
        """One server's views, as `_sync_views`; True if views were created (or dropped),
        so the sites must be marked incomplete."""
        missing = [t for t in VIEW_TABLES if not client.execute(f"EXISTS TABLE {t}_mv")[0][0]]
        if not self.summary_views:
            for table in VIEW_TABLES:
                client.execute(f"DROP TABLE IF EXISTS {table}_mv")  # fixed names
            return len(missing) < len(VIEW_TABLES)
        for table in missing:
            client.execute(ch_cluster.local_view_ddl(table, tables))
        return bool(missing)

    def _sync_views(self, fresh: bool) -> None:
        """Drop the stats views (`summaries=off`), or create the missing ones. Views
        created now missed the inserts made without them: every site with events is
        incomplete until `footfall stats rebuild` (`fresh`: the migration did that)."""
        client = self.client
        missing = [t for t in VIEW_TABLES if not client.execute(f"EXISTS TABLE {t}_mv")[0][0]]
        if not self.summary_views:
            if len(missing) < len(VIEW_TABLES):
                for table in VIEW_TABLES:
                    client.execute(f"DROP TABLE IF EXISTS {table}_mv")  # fixed names
                # Every reader of this database (any URL) must stop trusting them.
                client.execute(MARK_ALL_INCOMPLETE)
            return
        for table in missing:
            client.execute(view_ddl(table))
        if missing and not fresh:
            client.execute(MARK_ALL_INCOMPLETE)

    def flush_buffer(self) -> None:
        """Write what the Buffer table holds (if any) into `events` now."""
        if self.buffer_seconds:
            self.client.execute(f"OPTIMIZE TABLE {BUFFER}")

    def _apply_retention(self) -> None:
        if self.retention_days is None:
            return
        if self.server_version >= _TTL_SINCE:
            self.client.execute(retention_ttl_sql(self.retention_days))
        else:
            log.warning(
                "footfall: ClickHouse %s has no table TTL; run `footfall purge` daily "
                "to keep %d days",
                ".".join(map(str, self.server_version)),
                self.retention_days,
            )

    def _existing_ids(self, sites: Iterable[str], lo: int, hi: int, ids: Sequence[str]) -> set[str]:
        bounds = {"sites": tuple(sites), "lo": lo, "hi": hi}
        if not self.client.execute(self._sql["ANY_IN_RANGE"], bounds)[0][0]:
            return set()  # nothing stored in the batch's range: no id can be there
        rows = self.client.execute(
            self._sql["EXISTING_IDS"],
            bounds,
            external_tables=[
                # rows as 1-tuples: the driver sends them as they are (dicts
                # would be converted to rows one by one in Python first)
                {"name": "_batch", "structure": [("id", "String")], "data": list(zip(ids))}
            ],
        )
        return {r[0] for r in rows}

    def write(self, events: Sequence[Event]) -> int:
        if not events:
            return 0
        unique: dict[str, Event] = {}
        for e in events:
            unique.setdefault(e.id, e)
        batch = list(unique.values())
        names, values = columns(batch)
        col = dict(zip(names, values, strict=True))
        stamps = col["ts"]
        # Check-then-insert under a lock: threads of this process never race;
        # other processes can only in the few ms between the two (see above).
        with self._write_lock:
            known = self._existing_ids(set(col["site"]), min(stamps), max(stamps), col["id"])
            if known:
                batch = [e for e in batch if e.id not in known]
                if batch:
                    names, values = columns(batch)
            if batch:
                self.client.execute(insert_sql(names, self._table), values, columnar=True)
        return len(batch)

    def get_usage(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 500,
        page: int = 1,
        filters: EventFilter | None = None,
    ) -> list[Event]:
        limit, offset = page_window(limit, page)
        where, params = events_where(start, end, filters, PYFORMAT)
        params.update(limit=limit, offset=offset)
        rows = self.query(self._sql["SELECT_PAGE"].format(where=where), params)
        return [row_to_event(r) for r in rows]

    def iter_events(
        self,
        site: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        chunk: int = keyset.DEFAULT_CHUNK,
    ) -> Iterator[list[Event]]:
        return keyset.iter_events(self, site, start, end, chunk, self._table, probe=True)

    def iter_rows(
        self,
        site: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        chunk: int = keyset.DEFAULT_CHUNK,
    ) -> Iterator[list[Sequence[Any]]]:
        return keyset.iter_rows(self, site, start, end, chunk, self._table, probe=True)

    def count(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        filters: EventFilter | None = None,
    ) -> int:
        where, params = events_where(start, end, filters, PYFORMAT)
        return int(self.query(self._sql["COUNT"].format(where=where), params)[0][0])

    def _delete(self, deletion: hooks.Deletion) -> int:
        where, params = deletion.where, deletion.params
        # A mutation cannot reach rows still in the Buffer table: flush first.
        # (Events written while the mutation runs are new; they stay.)
        self.flush_buffer()
        n = int(self.query(COUNT.format(where=f" WHERE {where}"), params)[0][0])
        if n:
            # No transactions here: the hooks run before the mutation is sent.
            hooks.before_delete(self, None, deletion)
            if not self.cluster:
                self.client.execute(delete_sql(where), params)
                self._wait_for_mutations(self.client)
                return n
            # Mutations run on MergeTree tables only: each shard's events_local.
            for host in ch_cluster.hosts(self.client, self.cluster):
                with ch_cluster.on_host(self.driver_url, host, self.database) as client:
                    client.execute(delete_sql(where, "events_local"), params)
                    self._wait_for_mutations(client, "events_local")
        return n

    def delete_site_rows(self, tables: Sequence[str], site: str) -> None:
        """Delete `site`'s rows from the summary `tables` (the rebuild) and wait: one
        mutation per table, on each server's `_local` table on a cluster (a
        Distributed table takes no mutation)."""
        unknown = set(tables) - set(ch_cluster.table_names())
        if unknown:
            raise ValueError(f"not footfall tables: {sorted(unknown)}")
        if not self.cluster:
            for table in tables:
                self.client.execute(
                    f"ALTER TABLE {table} DELETE WHERE site = %(site)s", {"site": site}
                )
            for table in tables:
                self._wait_for_mutations(self.client, table)
            return
        for host in ch_cluster.hosts(self.client, self.cluster):
            with ch_cluster.on_host(self.driver_url, host, self.database) as client:
                for table in tables:
                    client.execute(
                        f"ALTER TABLE {table}_local DELETE WHERE site = %(site)s", {"site": site}
                    )
                for table in tables:
                    self._wait_for_mutations(client, f"{table}_local")

    def _wait_for_mutations(self, client: Client, table: str = "events") -> None:
        """Block until `table` has no unfinished mutation (ours included) on `client`'s server."""
        deadline = time.monotonic() + MUTATION_TIMEOUT_S
        delay = 0.01
        while True:
            pending = client.execute(
                "SELECT count() FROM system.mutations "
                "WHERE database = %(db)s AND table = %(table)s AND is_done = 0",
                {"db": self.database, "table": table},
            )[0][0]
            if not pending:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"ClickHouse mutation on {table} not done in {MUTATION_TIMEOUT_S}s"
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def purge(self, before: datetime, site: str | None = None) -> int:
        where, params = events_condition(None, before, EventFilter(site=site), PYFORMAT)
        return self._delete(hooks.Deletion(where, params, to_micros(before), site))

    def delete_visitor(self, visitor_id: str, site: str | None = None) -> int:
        filters = EventFilter(site=site, visitor_id=visitor_id)
        where, params = events_condition(None, None, filters, PYFORMAT)
        return self._delete(hooks.Deletion(where, params, site=site))

    def is_writable(self) -> bool:
        try:
            self.client.execute("SELECT 1")
        except (ClickHouseError, OSError, EOFError):
            return False
        return True

    def close(self) -> None:
        with self._lock:
            clients, self._all = self._all, []
        for client in clients:
            try:
                client.disconnect()
            except (ClickHouseError, OSError, EOFError):
                pass
        self._local = threading.local()
        super().close()

    def __repr__(self) -> str:
        return f"ClickHouseStore({redact_url(self.url)!r})"
