"""Stats engine: the dashboard overview at 1M and 10M events (100k and 1M with --quick).

Generates a year of events for one site (Europe/Berlin) into SQLite once and
caches the file under bench/.data/ (git-ignored); summaries are built with
`footfall.stats.summaries.rebuild` (the same code the write hook runs). Then times the
dashboard overview - an aggregate of 5 metrics, a daily time series and 4
breakdowns - unfiltered and filtered by one visit property (p50 of several
runs), beside plain SQL over the raw table answering the same questions in
the same run.

    python bench/run.py --only stats [--quick]
"""

from __future__ import annotations

import os
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from footfall import connect
from footfall.stats import query
from footfall.stores.rows import COLUMNS

DATA = Path(__file__).parent / ".data"
SITE = "bench.example.com"
TZ = "Europe/Berlin"
FIRST = date(2025, 11, 1)
DAYS = 365
LAST = FIRST + timedelta(days=DAYS - 1)
CUSTOM = f"{FIRST},{LAST}"
RUNS = 7
FILTER = "visit:country==DE"
BREAKDOWNS = ("event:page", "visit:source", "visit:country", "visit:browser")
PAGES = [f"/p/{i}" for i in range(60)] + ["/", "/pricing", "/signup", "/blog", "/docs"]
SOURCES = [("", "", "")] * 4 + [
    (f"https://{h}/", h, n)
    for h, n in [
        ("www.google.com", "Google"),
        ("news.ycombinator.com", "Hacker News"),
        ("t.co", "Twitter"),
        ("www.reddit.com", "Reddit"),
        ("duckduckgo.com", "DuckDuckGo"),
        ("www.bing.com", "Bing"),
        ("github.com", "GitHub"),
    ]
]
AGENTS = [
    ("Chrome", "130.0", "Windows", "10", "desktop"),
    ("Safari", "18.1", "iOS", "18.1", "mobile"),
    ("Chrome Mobile", "130.0", "Android", "14", "mobile"),
    ("Firefox", "132.0", "Linux", "", "desktop"),
    ("Safari", "18.1", "Mac OS X", "10.15", "desktop"),
    ("Edge", "130.0", "Windows", "11", "desktop"),
    ("Mobile Safari", "17.6", "iOS", "17.6", "tablet"),
]
PLACES = [
    ("US", "California", "San Francisco"),
    ("DE", "Berlin", "Berlin"),
    ("GB", "England", "London"),
    ("FR", "IDF", "Paris"),
    ("IN", "Karnataka", "Bengaluru"),
    ("BR", "SP", "Sao Paulo"),
    ("JP", "Tokyo", "Tokyo"),
    ("NL", "NH", "Amsterdam"),
    ("CA", "Ontario", "Toronto"),
    ("US", "New York", "New York"),
]
IDX = {c: i for i, c in enumerate(COLUMNS)}


def _rows(n_events: int, seed: int = 1) -> Any:
    """Yield event rows (in COLUMNS order) for about n_events events over DAYS days."""
    rng = random.Random(seed)
    template = ["" for _ in COLUMNS]
    for c, v in (
        ("status", 0),
        ("duration_ms", 0.0),
        ("bytes", 0),
        ("is_bot", 0),
        ("props", "{}"),
        ("context", "{}"),
        ("site", SITE),
        ("source", "browser"),
        ("host", SITE),
    ):
        template[IDX[c]] = v
    start_us = (
        int(datetime.combine(FIRST, datetime.min.time(), timezone.utc).timestamp()) * 1_000_000
    )
    pool: list[str] = []
    made = 0
    k = 0
    while made < n_events:
        k += 1
        day = int(DAYS * made / n_events)
        ts = start_us + day * 86_400_000_000 + int(rng.gauss(15, 4) % 24 * 3_600_000_000)
        if pool and rng.random() < 0.35:
            visitor = pool[rng.randrange(len(pool))]
        else:
            visitor = f"{rng.getrandbits(60):015x}"
            pool.append(visitor)
            if len(pool) > 50_000:
                pool = pool[25_000:]
        ref, ref_host, source = rng.choice(SOURCES)
        browser, bver, os_, osver, device = rng.choice(AGENTS)
        country, region, city = rng.choice(PLACES)
        n_pages = 1 if rng.random() < 0.45 else min(12, 2 + int(rng.expovariate(0.4)))
        for i in range(min(n_pages, n_events - made)):
            row = list(template)
            row[IDX["id"]] = f"{made:012x}"
            row[IDX["ts"]] = ts
            row[IDX["name"]] = "pageview"
            row[IDX["path"]] = PAGES[min(int(rng.expovariate(0.12)), len(PAGES) - 1)]
            row[IDX["visitor_id"]] = visitor
            row[IDX["visit_id"]] = f"v{k:010x}"
            if i == 0:
                row[IDX["referrer"]], row[IDX["referrer_host"]] = ref, ref_host
                row[IDX["referrer_source"]] = source
            for c, v in (
                ("browser", browser),
                ("browser_version", bver),
                ("os", os_),
                ("os_version", osver),
                ("device", device),
                ("country", country),
                ("region", region),
                ("city", city),
            ):
                row[IDX[c]] = v
            yield row
            made += 1
            ts += int(rng.expovariate(1 / 60) * 1_000_000) + 1_000_000


def build(n_events: int) -> Path:
    """The cached database with n_events events and complete summaries."""
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"stats-{n_events}.db"
    done = path.with_suffix(".ready")
    generated = path.with_suffix(".generated")
    if path.exists() and done.exists():
        return path
    if not (path.exists() and generated.exists()):
        _generate(path, n_events)
        generated.write_text("ok\n")
    started = time.perf_counter()
    from footfall.stats.summaries.rebuild import rebuild

    store = connect(f"sqlite:///{path}")
    rebuild(store, SITE)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    print(f"# summaries built in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    done.write_text("ok\n")
    return path


def _generate(path: Path, n_events: int) -> None:
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        p.unlink(missing_ok=True)
    store = connect(f"sqlite:///{path}")
    store.conn.execute(
        "INSERT INTO sites (domain, timezone, public, created_at) VALUES (?, ?, 0, 0)", (SITE, TZ)
    )
    store.close()
    insert_rows(path, _rows(n_events), n_events)


def insert_rows(path: Path, rows: Iterable[Sequence[Any]], n_events: int) -> None:
    """Write `rows` (COLUMNS) into the events table of a migrated SQLite file, 100,000
    to a transaction with no fsync: the fastest way to make a bench's data."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    sql = f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    started = time.perf_counter()
    batch: list[Sequence[Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= 100_000:
            conn.execute("BEGIN")
            conn.executemany(sql, batch)
            conn.execute("COMMIT")
            batch = []
    if batch:
        conn.execute("BEGIN")
        conn.executemany(sql, batch)
        conn.execute("COMMIT")
    conn.close()
    print(
        f"# generated {n_events:,} events in {time.perf_counter() - started:.0f}s", file=sys.stderr
    )


def overview(store: Any, filters: str | None) -> None:
    """What the dashboard asks for when it opens."""
    common: dict[str, Any] = {"period": "custom", "date": CUSTOM, "filters": filters}
    query(store, SITE, metrics="visitors,visits,pageviews,bounce_rate,visit_duration", **common)
    query(store, SITE, kind="timeseries", metrics="visitors,pageviews", **common)
    for prop in BREAKDOWNS:
        query(
            store,
            SITE,
            kind="breakdown",
            property=prop,
            metrics="visitors,pageviews",
            limit=10,
            **common,
        )


def plain_sql(conn: sqlite3.Connection, filtered: bool) -> None:
    """The same questions in hand-written SQL over the raw table (no summaries)."""
    lo = int(datetime.combine(FIRST, datetime.min.time(), timezone.utc).timestamp()) * 1_000_000
    hi = lo + DAYS * 86_400_000_000
    where = "site = ? AND ts >= ? AND ts < ? AND is_bot = 0" + (
        " AND country = 'DE'" if filtered else ""
    )
    p = (SITE, lo, hi)
    conn.execute(
        f"SELECT COUNT(DISTINCT visitor_id), SUM(name = 'pageview') FROM events WHERE {where}",
        p,
    ).fetchall()
    conn.execute(
        f"SELECT COUNT(*), SUM(n = 1), AVG(d) FROM (SELECT visit_id, COUNT(*) AS n,"
        f" MAX(ts) - MIN(ts) AS d FROM events WHERE {where} GROUP BY visit_id)",
        p,
    ).fetchall()
    conn.execute(
        f"SELECT date(ts / 1000000, 'unixepoch'), COUNT(DISTINCT visitor_id), COUNT(*)"
        f" FROM events WHERE {where} GROUP BY 1",
        p,
    ).fetchall()
    for col in ("path", "referrer_source", "country", "browser"):
        conn.execute(
            f"SELECT {col}, COUNT(DISTINCT visitor_id) AS v, COUNT(*) FROM events WHERE {where}"
            " GROUP BY 1 ORDER BY v DESC LIMIT 10",
            p,
        ).fetchall()


def _p50(fn: Any, runs: int) -> tuple[float, float]:
    """(first run ms, p50 ms of the later runs)."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return times[0], statistics.median(times[1:] if len(times) > 1 else times)


def write_cost(n_days: int) -> list[dict[str, Any]]:
    """Summaries trail the writes: the write path's rate (insert only), and the catch-up's
    folding rate in its chunks beside the same events folded per 100-event batch (the
    granularity of the former write-time hook), all in one run."""
    from footfall.demo import generate
    from footfall.stats.summaries.catchup import CHUNK, catch_up

    events = sorted((e for b in generate(days=n_days, seed=9) for e in b), key=lambda e: e.ts)
    timings: dict[int, tuple[float, float]] = {}
    for chunk in (CHUNK, 100):
        path = DATA / f"write-{chunk}.db"
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            p.unlink(missing_ok=True)
        store = connect(f"sqlite:///{path}")
        t = time.perf_counter()
        for i in range(0, len(events), 100):
            store.write(events[i : i + 100])
        written = time.perf_counter() - t
        t = time.perf_counter()
        assert catch_up(store, chunk=chunk) == len(events)
        timings[chunk] = (written, time.perf_counter() - t)
        store.close()
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            p.unlink(missing_ok=True)
    n = len(events)
    write_s, fold_s = timings[CHUNK]
    fold_small = timings[100][1]
    return [
        {
            "benchmark": f"SQLite write, 100-event batches ({n:,} events): insert only,"
            " summaries trail",
            "footfall": round(n / write_s),
            "peer": "same writes + summaries folded per 100-event batch",
            "peer_value": round(n / (write_s + fold_small)),
            "ratio": round((write_s + fold_small) / write_s, 2),
            "unit": "events/s",
            "goal": "",
        },
        {
            "benchmark": f"stats catch-up: fold {n:,} events in {CHUNK:,}-event chunks",
            "footfall": round(n / fold_s),
            "peer": "same events folded in 100-event chunks",
            "peer_value": round(n / fold_small),
            "ratio": round(fold_small / fold_s, 2),
            "unit": "events/s",
            "goal": "",
        },
    ]


def run(quick: bool) -> list[dict[str, Any]]:
    sizes = [100_000, 1_000_000] if quick else [1_000_000, 10_000_000]
    sizes = [
        int(s) for s in os.environ.get("FOOTFALL_BENCH_STATS_SIZES", "").split(",") if s
    ] or sizes
    out: list[dict[str, Any]] = []
    for n in sizes:
        path = build(n)
        store = connect(f"sqlite:///{path}")
        raw = sqlite3.connect(path)
        peer_runs = 3 if n <= 1_000_000 else 1
        for filtered in (False, True):
            filters = FILTER if filtered else None
            cold, p50 = _p50(lambda f=filters, s=store: overview(s, f), RUNS)
            _, peer = _p50(lambda f=filtered, c=raw: plain_sql(c, f), peer_runs)
            label = f"filtered by {FILTER}" if filtered else "unfiltered"
            goal = ("<= 500 ms" if filtered else "<= 100 ms") if n >= 10_000_000 else ""
            out.append(
                {
                    "benchmark": f"stats overview {label}, {n / 1e6:g}M events, p50"
                    f" (first run {cold:.0f} ms)",
                    "footfall": round(p50, 1),
                    "peer": "plain SQL over raw events",
                    "peer_value": round(peer, 1),
                    "ratio": round(peer / p50, 1) if p50 else None,
                    "unit": "ms",
                    "goal": goal,
                }
            )
        store.close()
        raw.close()
    if not os.environ.get("FOOTFALL_BENCH_STATS_SIZES"):
        out.extend(write_cost(14 if quick else 60))
    return out


if __name__ == "__main__":
    for row in run("--quick" in sys.argv):
        print(row)
