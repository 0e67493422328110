"""The overview benchmark's data: made once per size, cached, bulk-loaded into each store.

`bench_stores` times the dashboard overview at 1M and 10M events. Making 10M
events in Python and writing them through `store.write` takes minutes per
store, so the rows are written once to `bench/.data/overview-<n>.tsv`
(git-ignored; ~2 GB at 10M) in the events table's column order, and each
store bulk-loads that file with its own tool: `clickhouse-client ... FORMAT
TabSeparated`, PostgreSQL `COPY ... FROM STDIN`, chDB's `file()` table
function. TabSeparated and PostgreSQL's COPY text format escape alike.

Not a benchmark module itself (bench/run.py runs bench_*.py only).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from footfall import Event
from footfall.stores.rows import COLUMNS, row_encoder, to_micros

DATA = Path(__file__).resolve().parent / ".data"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
COPY_CHUNK = 1 << 20


def _field(value: Any) -> str:
    return value.translate(_ESCAPES) if isinstance(value, str) else str(value)


def tsv(size: int, make: Callable[[int], Iterator[Event]]) -> Path:
    """The cached rows of `make(size)` (written on first use)."""
    path = DATA / f"overview-{size}.tsv"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    enc = row_encoder(ts=to_micros, boolean=int)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="\n") as fh:
        for event in make(size):
            fh.write("\t".join(_field(v) for v in enc(event)) + "\n")
    tmp.replace(path)
    return path


def load_clickhouse(store: Any, path: Path) -> None:
    """Stream the file to the server with clickhouse-client (native protocol)."""
    where = urlsplit(store.driver_url)
    cmd = [
        "clickhouse-client",
        f"--host={where.hostname or '127.0.0.1'}",
        f"--port={where.port or 9000}",
        f"--database={store.database}",
        f"--query=INSERT INTO events ({', '.join(COLUMNS)}) FORMAT TabSeparated",
    ]
    if getattr(store, "cluster", None):  # a Distributed `events`: stored on the shards on return
        cmd.append("--insert_distributed_sync=1")
    if where.username:
        cmd.append(f"--user={where.username}")
    if where.password:
        cmd.append(f"--password={where.password}")
    with path.open("rb") as fh:
        subprocess.run(cmd, stdin=fh, check=True, timeout=1800)
    settle(store)


def settle(store: Any) -> None:
    """Merge the freshly loaded parts: time the steady state, not background merges."""
    tables = ("events", "stats_hours", "stats_days", "stats_visit_parts")  # and the views'
    if not getattr(store, "cluster", None):
        for table in tables:
            store.query(f"OPTIMIZE TABLE {table} FINAL")
        return
    from footfall.stores import ch_cluster  # a cluster: each shard's local tables

    for host in ch_cluster.hosts(store.client, store.cluster):
        with ch_cluster.on_host(store.driver_url, host, store.database) as client:
            for table in tables:
                client.execute(f"OPTIMIZE TABLE {table}_local FINAL")


def load_postgres(store: Any, path: Path) -> None:
    """COPY the file into the store's events table (text format)."""
    import psycopg

    with psycopg.connect(store.conninfo) as conn:
        conn.execute(f"SET search_path TO {store.schema}")
        with conn.cursor() as cur, cur.copy(f"COPY events ({', '.join(COLUMNS)}) FROM STDIN") as cp:
            with path.open("rb") as fh:
                while chunk := fh.read(COPY_CHUNK):
                    cp.write(chunk)
        conn.commit()
        conn.execute("ANALYZE events")
        conn.commit()


def load_chdb(store: Any, path: Path) -> None:
    """INSERT ... SELECT from chDB's file() table function, typed by the events table."""
    types = dict(store.query("SELECT name, type FROM system.columns WHERE table = 'events'"))
    structure = ", ".join(f"{c} {types[c]}" for c in COLUMNS)
    store.query(
        f"INSERT INTO events ({', '.join(COLUMNS)}) "
        f"SELECT * FROM file('{path}', 'TabSeparated', '{structure}')"
    )
    settle(store)


def overview_ms(store: Any, site: str, repeat: int, engine: str = "raw") -> float:
    """Median ms of the dashboard overview: aggregate + daily timeseries over 30 days."""
    from footfall.stats.engine import aggregate, timeseries
    from footfall.stats.model import build_query

    q = build_query(
        site, tz="UTC", period="30d", date="2026-10-30", engine=engine,
        metrics="visitors,visits,pageviews,bounce_rate,visit_duration",
    )  # fmt: skip
    aggregate(store, q)  # warm: first touch of the files, caches
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        aggregate(store, q)
        timeseries(store, q)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


# The dashboard's first tab of each breakdown panel (footfall/dashboard/panels.py).
PANELS = (
    ("event:page", "visitors,pageviews"),
    ("visit:source", "visitors"),
    ("visit:country", "visitors"),
    ("visit:browser", "visitors"),
    ("visit:entry_page", "visitors,visits"),
    ("event:name", "visitors,events"),
)


def breakdowns_ms(store: Any, site: str, repeat: int, engine: str = "raw") -> float:
    """Median ms of the dashboard's six breakdown panels (top 10 each), one after another."""
    from footfall.stats.engine import breakdown
    from footfall.stats.model import build_query

    common = dict(tz="UTC", period="30d", date="2026-10-30", engine=engine, limit=10)
    queries = [build_query(site, metrics=m, property=p, **common) for p, m in PANELS]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        for q in queries:
            breakdown(store, q)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def sizes(quick: bool) -> list[int]:
    """FOOTFALL_BENCH_OVERVIEW=1000000,10000000 (default; 20000 when quick; 0 skips)."""
    default = "20000" if quick else "1000000,10000000"
    text = os.environ.get("FOOTFALL_BENCH_OVERVIEW", default)
    return [int(s) for s in text.split(",") if s.strip() and int(s) > 0]
