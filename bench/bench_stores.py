"""Bulk write throughput per store, beside the raw driver writing the same rows.

For SQLite, PostgreSQL and ClickHouse: `store.write(batch)` of realistic,
time-ordered events in batches of BATCH (what `footfall worker` and the
delivery worker hand a store), against the ceiling of the bare driver in the
same run: sqlite3 `executemany`, psycopg `COPY`, clickhouse-driver `INSERT`
of the already-encoded rows into a table of the same schema (no id check, no
staging: the cost of the wire and the server alone). Each figure is the
median of REPEAT runs into a fresh table. Then the median time of the
dashboard overview (aggregate + daily timeseries, 30 days, raw SQL) at 1M and
10M events on PostgreSQL, the ClickHouse server and chDB (current ClickHouse
in process), the data bulk-loaded from a cached file (bench/overview_data.py).

    python bench/run.py --only stores [--quick]
    FOOTFALL_BENCH_POSTGRES=postgresql://... FOOTFALL_BENCH_CLICKHOUSE=clickhouse://...
"""

from __future__ import annotations

import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import overview_data  # noqa: E402

from footfall import Event  # noqa: E402
from footfall.stores import Store, connect  # noqa: E402
from footfall.stores.rows import COLUMNS, row_encoder, to_micros  # noqa: E402

BATCH = 10_000
_DEFAULTS = {"status": 0, "duration_ms": 0.0, "bytes": 0, "is_bot": 0}
_DEFAULTS.update({c: "" for c in COLUMNS if c not in _DEFAULTS})
REPEAT = 3
# The PostgreSQL overview from summaries needs a catch-up over the loaded events first
# (~tens of thousands of events/s): only up to this size.
PG_SUMMARY_MAX = int(os.environ.get("FOOTFALL_BENCH_PG_SUMMARY_MAX", "1000000"))
SITE = "bench.example"
PG_URL = os.environ.get("FOOTFALL_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
GOALS = {"sqlite": "", "postgres": ">= 100,000", "clickhouse": ">= 200,000"}
GOALS["clickhouse, buffer_seconds=10"] = GOALS["clickhouse"]
GOALS["clickhouse, summaries=off"] = GOALS["clickhouse"]
GOALS["clickhouse, 2-shard cluster"] = ">= 0.9 x raw driver"
_BUFFERED = "?buffer_seconds=10"  # the opt-in Buffer table (docs/stores.md)
_PAGES = [f"/docs/{i}" for i in range(200)] + ["/", "/pricing", "/blog", "/signup"]
_REFS = ["", "", "google.com", "news.ycombinator.com", "duckduckgo.com", "github.com"]
_COUNTRIES = ["US", "DE", "FR", "GB", "IN", "BR", "JP", ""]
_BROWSERS = [("Chrome", "131.0"), ("Firefox", "132.0"), ("Safari", "18.1"), ("Edge", "131.0")]


def make_events(n: int, days: int = 30, seed: int = 7) -> list[Event]:
    """`n` time-ordered page views over `days`: visits of 1-7 views, ~n/10 visitors."""
    return list(iter_events(n, days, seed))


def iter_events(n: int, days: int = 30, seed: int = 7) -> Iterator[Event]:
    """make_events one at a time (10M events do not fit in memory as objects)."""
    rnd = random.Random(seed)
    start = datetime(2026, 10, 1, tzinfo=timezone.utc)
    step = days * 86_400 / n
    visitors = max(1, n // 10)
    left, visit, visitor, browser, version, ref, country = 0, 0, 0, "", "", "", ""
    for i in range(n):
        if left == 0:  # a new visit: who, from where, with what
            left, visit = rnd.randint(1, 7), visit + 1
            visitor = rnd.randrange(visitors)
            browser, version = rnd.choice(_BROWSERS)
            ref, country = rnd.choice(_REFS), rnd.choice(_COUNTRIES)
        left -= 1
        yield Event(
            name="pageview",
            ts=start + timedelta(seconds=i * step),
            site=SITE,
            source="browser",
            host=SITE,
            path=rnd.choice(_PAGES),
            referrer=f"https://{ref}/" if ref else "",
            referrer_host=ref,
            visitor_id=f"{visitor:016x}",
            visit_id=f"{visitor:016x}-{visit}",
            country=country,
            browser=browser,
            browser_version=version,
            os="Linux",
            device="desktop",
            language="en-US",
            screen="1920x1080",
        )


def _time(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _batches(items: list[Any], size: int = BATCH) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


# -- stores under test -------------------------------------------------------
def _sqlite_store(tmp: Path) -> tuple[Store, Callable[[], None]]:
    path = tmp / f"{uuid.uuid4().hex}.db"
    return connect(f"sqlite:///{path}"), lambda: path.unlink(missing_ok=True)


def _pg_store(tmp: Path) -> tuple[Store, Callable[[], None]]:
    import psycopg

    schema = f"ff_bench_{uuid.uuid4().hex[:10]}"
    sep = "&" if "?" in PG_URL else "?"
    store = connect(f"{PG_URL}{sep}schema={schema}")

    def drop() -> None:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")

    return store, drop


def _ch_base() -> str | None:
    env = os.environ.get("FOOTFALL_BENCH_CLICKHOUSE")
    if env:
        return env.rsplit("/", 1)[0]
    from tests.clickhouse_server import clickhouse_url

    url = clickhouse_url()
    return url.rsplit("/", 1)[0] if url else None


def _ch_store(tmp: Path, query: str = "") -> tuple[Store, Callable[[], None]]:
    base = _ch_base()
    if base is None:
        raise RuntimeError("no ClickHouse server (apt-get install clickhouse-server)")
    db = f"ff_bench_{uuid.uuid4().hex[:10]}"
    store = connect(f"{base}/{db}{query}")

    def drop() -> None:
        store.client.execute(f"DROP DATABASE IF EXISTS {db}")  # type: ignore[attr-defined]

    return store, drop


def _ch_cluster_store(tmp: Path) -> tuple[Store, Callable[[], None]]:
    """A store on a two-shard cluster ($FOOTFALL_BENCH_CLICKHOUSE_CLUSTER, a `?cluster=`
    URL, or the test suite's two local servers), in a fresh database on every shard."""
    from urllib.parse import urlsplit

    from footfall.stores import ch_cluster

    base = os.environ.get("FOOTFALL_BENCH_CLICKHOUSE_CLUSTER")
    if not base:
        from tests.clickhouse_cluster import cluster_url

        base = cluster_url()
    if base is None:
        raise RuntimeError("no ClickHouse cluster (apt-get install clickhouse-server)")
    db = f"ff_bench_{uuid.uuid4().hex[:10]}"
    store = connect(urlsplit(base)._replace(path=f"/{db}").geturl())

    def drop() -> None:
        c = store.client  # type: ignore[attr-defined]
        for host in ch_cluster.hosts(c, store.cluster):  # type: ignore[attr-defined]
            with ch_cluster.on_host(store.driver_url, host) as client:  # type: ignore[attr-defined]
                client.execute(f"DROP DATABASE IF EXISTS {db}")

    return store, drop


def _tracker_rate(tmp: Path, events: list[Event], batch_size: int | None) -> float:
    """Events/s from `Tracker.send` of every event until `flush` returns (ClickHouse).

    What an app or the collector sustains when it hands events over faster
    than the store takes them: the worker's batch size decides the INSERT size.
    """
    from footfall import Tracker

    store, drop = _ch_store(tmp)
    tracker = Tracker([store], [], batch_size=batch_size, queue_size=len(events), name="bench-ch")
    try:
        started = time.perf_counter()
        for e in events:
            tracker.send(e)
        tracker.flush(600)
        took = time.perf_counter() - started
        assert store.count() == len(events), "store lost or doubled events"
    finally:
        tracker.worker.close(5)
        drop()
        store.close()
    return len(events) / took


def _clickhouse_batches(tmp: Path, quick: bool) -> list[dict[str, Any]]:
    """ClickHouse at its preferred batch size; a tracker's default against batches of 1,000."""
    from footfall.stores.clickhouse import ClickHouseStore

    size = ClickHouseStore.preferred_batch_size or BATCH
    events = make_events(2 * size if quick else 4 * size)
    pairs = [
        (_write_rate(_ch_store, tmp, events, size), _raw_ch(tmp, events, batch=size))
        for _ in range(REPEAT)
    ]
    ours, peer = (statistics.median(p[i] for p in pairs) for i in (0, 1))
    tracked = [
        (_tracker_rate(tmp, events, None), _tracker_rate(tmp, events, 1_000)) for _ in range(REPEAT)
    ]
    default, small = (statistics.median(p[i] for p in tracked) for i in (0, 1))
    n = len(events)
    return [
        {
            "benchmark": f"write {n:,} events, batches of {size:,} (clickhouse)",
            "footfall": ours,
            "peer": "raw clickhouse driver",
            "peer_value": peer,
            "ratio": ours / peer,
            "unit": "events/s",
            "goal": GOALS["clickhouse"],
        },
        {
            "benchmark": f"  Tracker.send of {n:,} events to ClickHouse until flushed, "
            f"batches of {size:,} (the store's hint)",
            "footfall": default,
            "peer": "batch_size=1,000",
            "peer_value": small,
            "ratio": default / small,
            "unit": "events/s",
            "goal": "",
        },
    ]


# -- raw driver ceilings -----------------------------------------------------
def _raw_sqlite(tmp: Path, events: list[Event]) -> float:
    from footfall.stores.migrate import load_migrations

    rows = [row_encoder()(e) for e in events]
    path = tmp / f"raw-{uuid.uuid4().hex}.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    # The store's own events schema: the table (0001) less the visitor index (0014).
    for m in load_migrations("sqlite"):
        if m.version in (1, 14):
            for stmt in m.statements:
                conn.execute(stmt)
    sql = f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"

    def go() -> None:
        for chunk in _batches(rows):
            conn.execute("BEGIN")
            conn.executemany(sql, chunk)
            conn.execute("COMMIT")

    took = _time(go)
    conn.close()
    path.unlink(missing_ok=True)
    return len(rows) / took


def _raw_pg(tmp: Path, events: list[Event]) -> float:
    import psycopg

    from footfall.stores.rows import encode_json

    enc = row_encoder(ts=to_micros, json=encode_json, boolean=int)
    rows = [enc(e) for e in events]
    store, drop = _pg_store(tmp)  # same schema and indexes, created by the migrations
    store.close()
    schema = store.schema  # type: ignore[attr-defined]
    copy_sql = f"COPY {schema}.events ({', '.join(COLUMNS)}) FROM STDIN"
    try:
        with psycopg.connect(PG_URL) as conn:

            def go() -> None:
                for chunk in _batches(rows):
                    with conn.cursor() as cur, cur.copy(copy_sql) as copy:
                        for row in chunk:
                            copy.write_row(row)
                    conn.commit()

            took = _time(go)
    finally:
        drop()
    return len(rows) / took


def _raw_ch(
    tmp: Path, events: list[Event], query: str = "", batch: int = BATCH, factory: Any = None
) -> float:
    from footfall.stores.ch_sql import INSERT

    enc = row_encoder(ts=to_micros, boolean=int)
    rows = [enc(e) for e in events]
    store: Any
    store, drop = factory(tmp) if factory else _ch_store(tmp, query)
    # The store's own client: on a cluster it inserts into `events` (Distributed)
    # with the same settings (insert_distributed_sync) as the store.
    client = store.client
    insert = INSERT.replace("events", "events_buffer") if "buffer_seconds" in query else INSERT

    def go() -> None:
        for chunk in _batches(rows, batch):
            client.execute(insert, chunk)
        store.flush_buffer()  # buffered: written means in `events`

    try:
        took = _time(go)
    finally:
        drop()
        store.close()
    return len(rows) / took


STORES: dict[str, tuple[Callable[[Path], tuple[Store, Callable[[], None]]], Any]] = {
    "sqlite": (_sqlite_store, _raw_sqlite),
    "postgres": (_pg_store, _raw_pg),
    "clickhouse": (_ch_store, _raw_ch),
    # Same server, same MergeTree, a Buffer table in front; both sides time
    # the final flush into `events`, so "written" means in the MergeTree.
    "clickhouse, buffer_seconds=10": (
        lambda tmp: _ch_store(tmp, _BUFFERED),
        lambda tmp, events: _raw_ch(tmp, events, _BUFFERED),
    ),
    # Without the stats views (an ingest-only node): what the summaries cost inserts.
    "clickhouse, summaries=off": (
        lambda tmp: _ch_store(tmp, "?summaries=off"),
        lambda tmp, events: _raw_ch(tmp, events, "?summaries=off"),
    ),
    # Two shards (`?cluster=`): both sides insert into the Distributed `events`,
    # synchronously (acknowledged once on the shards).
    "clickhouse, 2-shard cluster": (
        _ch_cluster_store,
        lambda tmp, events: _raw_ch(tmp, events, factory=_ch_cluster_store),
    ),
}


def _write_rate(factory: Any, tmp: Path, events: list[Event], batch: int = BATCH) -> float:
    store, drop = factory(tmp)
    try:

        def go() -> None:
            for chunk in _batches(events, batch):
                store.write(chunk)
            store.flush_buffer()  # ClickHouse with a Buffer table

        took = _time(go)
        assert store.count() == len(events), "store lost or doubled events"
    finally:
        drop()
        store.close()
    return len(events) / took


def _overview_ms(
    factory: Any, tmp: Path, name: str, data: Path, extra: list[dict[str, Any]] | None = None
) -> float | str:
    """Median ms of the dashboard overview (aggregate + daily timeseries, 30 days).

    On PostgreSQL up to PG_SUMMARY_MAX events, `extra` also gets the catch-up's
    fold rate over the loaded events and the overview answered from summaries.
    """
    from footfall.stats.engine import dialect_for
    from footfall.stats.summaries.catchup import catch_up

    store, drop = factory(tmp)
    try:
        try:
            dialect_for(store)
        except Exception as exc:  # a store the stats engine cannot run on
            return f"n/a: {exc}"
        loader = (
            overview_data.load_postgres if name == "postgres" else overview_data.load_clickhouse
        )
        loader(store, data)
        folded, took = 0, 0.0
        if name == "postgres":
            if extra is not None and store.count() <= PG_SUMMARY_MAX:
                started = time.perf_counter()
                folded = catch_up(store)  # else the first stats read would do it
                took = time.perf_counter() - started
            else:  # too big to fold here: as if loaded before summaries existed
                store.query(
                    "UPDATE stats_state SET value = (SELECT MAX(seq) FROM events)"
                    " WHERE key = 'rollup_rowid' RETURNING value"
                )
        if name in ("clickhouse", "cluster") and extra is not None:
            _clickhouse_summaries(store, extra)
        raw = overview_data.overview_ms(store, SITE, REPEAT)
        if folded and extra is not None:
            summary = overview_data.overview_ms(store, SITE, REPEAT, engine="summary")
            extra.append(
                {
                    "benchmark": f"  same, {folded:,} events (postgres), from summaries",
                    "footfall": summary,
                    "peer": "raw SQL, same store",
                    "peer_value": raw,
                    "ratio": raw / summary,
                    "unit": "ms",
                }
            )
            extra.append(
                {
                    "benchmark": f"  postgres catch-up: fold {folded:,} stored events",
                    "footfall": folded / took,
                    "unit": "events/s",
                }
            )
        return raw
    finally:
        drop()
        store.close()


def _clickhouse_summaries(store: Any, extra: list[dict[str, Any]]) -> None:
    """Compact the loaded events' visits, then time the overview from the summaries
    (the views filled the rest while the file was loaded)."""
    from footfall.stats.summaries.clickhouse_compact import compact

    n = int(store.query("SELECT count() FROM events")[0][0])
    started = time.perf_counter()
    hours = compact(store, settle=0)
    took = time.perf_counter() - started
    summary = overview_data.overview_ms(store, SITE, REPEAT, engine="summary")
    raw = overview_data.overview_ms(store, SITE, 1)
    label = "chdb" if "chdb" in store.url else "clickhouse 18.16 server"
    if getattr(store, "cluster", None):
        label = "clickhouse 18.16, 2-shard cluster"
    extra.append(
        {
            "benchmark": f"overview (aggregate + timeseries), {n:,} events ({label}), summaries",
            "footfall": summary,
            "peer": "raw SQL, same store",
            "peer_value": raw,
            "ratio": raw / summary,
            "unit": "ms",
            "goal": "<= 300 at 10M",
        }
    )
    panels = overview_data.breakdowns_ms(store, SITE, 3, engine="summary")
    raw_panels = overview_data.breakdowns_ms(store, SITE, 1)
    extra.append(
        {
            "benchmark": f"  dashboard's 6 breakdown panels, {n:,} events ({label}), summaries",
            "footfall": panels,
            "peer": "raw SQL, same store",
            "peer_value": raw_panels,
            "ratio": raw_panels / panels,
            "unit": "ms",
        }
    )
    extra.append(
        {
            "benchmark": f"  {label} compaction: visits of {hours:,} hours, {n:,} events",
            "footfall": n / took,
            "unit": "events/s",
        }
    )


def _chdb_overview_ms(tmp: Path, data: Path, extra: list[dict[str, Any]]) -> float | str:
    """The same SQL on current ClickHouse, in process (chDB): what a current server does."""
    try:
        from tests.stores.chdb_store import ChdbStore
    except ImportError as exc:
        return f"n/a: {exc}"
    store = ChdbStore(tmp / f"chdb-{uuid.uuid4().hex}")
    try:
        overview_data.load_chdb(store, data)
        _clickhouse_summaries(store, extra)
        return overview_data.overview_ms(store, SITE, REPEAT)
    finally:
        store.close()


# FOOTFALL_BENCH_OVERVIEW_STORES names without commas for the stores that have one.
_OVERVIEW_ALIASES = {"cluster": "clickhouse, 2-shard cluster"}


def run(quick: bool) -> list[dict[str, Any]]:
    n = 20_000 if quick else 100_000
    events = make_events(n)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="footfall-bench-") as tmpdir:
        tmp = Path(tmpdir)
        only = os.environ.get(
            "FOOTFALL_BENCH_STORES"
        )  # e.g. "clickhouse,clickhouse, 2-shard cluster"
        for name, (factory, raw) in STORES.items():
            if only and name not in only.split(";"):
                continue
            try:
                # Alternate store and driver runs: the machine's load drifts,
                # and back-to-back blocks would hand one side the quiet minute.
                pairs = [
                    (_write_rate(factory, tmp, events), raw(tmp, events)) for _ in range(REPEAT)
                ]
                ours = statistics.median(p[0] for p in pairs)
                peer = statistics.median(p[1] for p in pairs)
            except Exception as exc:  # a missing server is reported, not fatal
                rows.append({"benchmark": f"write {name}: unavailable ({exc})"})
                continue
            rows.append(
                {
                    "benchmark": f"write {n:,} events, batches of {BATCH:,} ({name})",
                    "footfall": ours,
                    "peer": f"raw {name} driver",
                    "peer_value": peer,
                    "ratio": ours / peer,
                    "unit": "events/s",
                    "goal": GOALS[name],
                }
            )
        if os.environ.get("FOOTFALL_BENCH_CH_BATCHES", "1") != "0":
            try:
                rows.extend(_clickhouse_batches(tmp, quick))
            except Exception as exc:  # a missing server is reported, not fatal
                rows.append({"benchmark": f"clickhouse batches: unavailable ({exc})"})
        # The overview at 1M and 10M events (FOOTFALL_BENCH_OVERVIEW=N,M to
        # change; 0 skips it): raw-SQL engine, so every store answers from its
        # events. SQLite's overview is bench_stats' subject (with its summaries).
        wanted = os.environ.get("FOOTFALL_BENCH_OVERVIEW_STORES", "postgres,clickhouse,chdb")
        for size in overview_data.sizes(quick):
            data = overview_data.tsv(size, iter_events)
            for name in wanted.split(","):
                extra: list[dict[str, Any]] = []
                try:
                    if name == "chdb":
                        ms = _chdb_overview_ms(tmp, data, extra)
                    else:
                        store_name = _OVERVIEW_ALIASES.get(name, name)
                        ms = _overview_ms(STORES[store_name][0], tmp, name, data, extra)
                except Exception as exc:
                    ms = f"n/a: {exc}"
                label = {
                    "clickhouse": "clickhouse 18.16 server",
                    "cluster": "clickhouse 18.16, 2-shard cluster",
                    "chdb": "clickhouse dialect on chDB, in process",
                }.get(name, name)
                row: dict[str, Any] = {
                    "benchmark": f"overview (aggregate + timeseries), {size:,} events ({label})"
                    + (", raw SQL" if name in ("clickhouse", "chdb", "cluster") else ""),
                    "unit": "ms",
                }
                if isinstance(ms, str):
                    row["benchmark"] += f": {ms[:80]}"
                else:
                    row["footfall"] = ms
                rows.append(row)
                rows.extend(extra)
    return rows


if __name__ == "__main__":
    for row in run("--quick" in sys.argv):
        print(row)
