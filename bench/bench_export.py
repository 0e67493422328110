"""`footfall export`: events/s per format, and peak memory that does not grow with the store.

A SQLite store of N generated events (three sites, a realistic mix of
filled columns and props) is exported by `footfall export` in a child
process per format, to a file; its peak RSS is the child's own
(`os.wait4`'s rusage). Beside it, on the same rows: `sqlite3 -json`
(SQLite's C shell writing every row as JSON) and the raw driver (Python's
sqlite3 cursor, every row through orjson, no footfall). The stores are
built once and kept in the temp folder (`footfall-bench-export-N.db`).

Sizes: 100,000 and 1,000,000 events (`--quick`: 20,000 and 200,000), or
FOOTFALL_BENCH_EXPORT_SIZES=100000,1000000,10000000 (10M: about 3.5 GB of
disk, and 5 minutes to build on a 2-CPU machine). Peak RSS at every size
should be the same within a few MB for jsonl and csv; Parquet's grows with
its footer, which describes every row group (one per chunk).

    python bench/run.py --only export
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from footfall import Event, connect

ROOT = Path(__file__).resolve().parents[1]
FOOTFALL = str(Path(sys.executable).with_name("footfall"))
FORMATS = ("jsonl", "csv", "parquet")
WRITE_BATCH = 20_000
_RAW = """
import sqlite3, sys, orjson
conn = sqlite3.connect(sys.argv[1])
cur = conn.execute("SELECT * FROM events ORDER BY site, ts, id")
names = [d[0] for d in cur.description]
with open(sys.argv[2], "wb") as out:
    while rows := cur.fetchmany(10000):
        out.write(b"".join(orjson.dumps(dict(zip(names, r))) + b"\\n" for r in rows))
"""


def _events(n: int, seed: int = 1) -> Any:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    step = 365 * 86_400 / n
    sites = ("www.example.com", "shop.example.com", "api.example.com")
    pages = [f"/p/{i}" for i in range(500)]
    sources = ("", "", "Google", "DuckDuckGo", "Hacker News", "Newsletter")
    countries = ("US", "DE", "GB", "FR", "IN", "BR", "JP")
    batch: list[Event] = []
    for i in range(n):
        site = sites[i % 3]
        path = rng.choice(pages)
        visitor = f"{rng.getrandbits(40):010x}"
        batch.append(
            Event(
                name="pageview" if i % 7 else "shop.checkout",
                ts=start + timedelta(seconds=i * step),
                site=site,
                source="browser",
                url=f"https://{site}{path}",
                host=site,
                path=path,
                referrer_source=rng.choice(sources),
                visitor_id=visitor,
                visit_id=f"{visitor}-1",
                country=rng.choice(countries),
                browser="Firefox" if i % 2 else "Chrome",
                browser_version="132.0",
                os="Linux",
                device="desktop",
                language="en-US",
                screen="1920x1080",
                props={"plan": "pro", "amount": i % 100} if i % 7 == 0 else {},
            )
        )
        if len(batch) == WRITE_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _store(n: int) -> Path:
    path = Path(tempfile.gettempdir()) / f"footfall-bench-export-{n}.db"
    if path.exists():
        store = connect(f"sqlite:///{path}")
        try:
            if store.count() == n:
                return path
        finally:
            store.close()
        path.unlink()
    partial = path.with_suffix(".partial.db")
    for stale in partial.parent.glob(partial.name + "*"):
        stale.unlink()
    store = connect(f"sqlite:///{partial}")
    for batch in _events(n):
        store.write(batch)
    store.close()
    for suffix in ("-wal", "-shm", ".lock"):
        Path(str(partial) + suffix).unlink(missing_ok=True)
    partial.rename(path)
    return path


def _run(argv: list[str], stdout: Any = subprocess.DEVNULL) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.DEVNULL, cwd=ROOT)
    _, status, usage = os.wait4(child.pid, 0)
    took = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise RuntimeError(f"{argv[:3]} exited {child.returncode}")
    return took, usage.ru_maxrss / 1024  # Linux: kilobytes


def _sizes(quick: bool) -> list[int]:
    given = os.environ.get("FOOTFALL_BENCH_EXPORT_SIZES", "")
    if given:
        return [int(n) for n in given.split(",") if n.strip()]
    return [20_000, 200_000] if quick else [100_000, 1_000_000]


def run(quick: bool) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    out_dir = Path(tempfile.mkdtemp(prefix="footfall-bench-export-"))
    try:
        for n in _sizes(quick):
            db = _store(n)
            target = out_dir / "events.json"
            with target.open("wb") as f:
                peer_s, peer_rss = _run(
                    ["sqlite3", "-json", str(db), "SELECT * FROM events ORDER BY site, ts, id"], f
                )
            target.unlink()
            raw_s, raw_rss = _run([sys.executable, "-c", _RAW, str(db), str(target)])
            target.unlink()
            for fmt in FORMATS:
                out = out_dir / f"events.{fmt}"
                argv = [FOOTFALL, "export", "--db", f"sqlite:///{db}", "--format", fmt]
                took, rss = _run([*argv, "-o", str(out)])
                size = out.stat().st_size / 1e6
                out.unlink()
                rows.append(
                    {
                        "benchmark": f"export {n:,} events, {fmt} ({size:,.0f} MB)",
                        "footfall": n / took,
                        "peer": "sqlite3 -json",
                        "peer_value": n / peer_s,
                        "ratio": (n / took) / (n / peer_s),
                        "unit": "events/s",
                    }
                )
                rows.append(
                    {
                        "benchmark": "  same, peak RSS of the process",
                        "footfall": rss,
                        "peer": "sqlite3 -json",
                        "peer_value": peer_rss,
                        "unit": "MB",
                        "goal": "flat as N grows",
                    }
                )
            rows.append(
                {
                    "benchmark": f"  raw driver: sqlite3 cursor + orjson, {n:,} rows",
                    "footfall": None,
                    "peer": "python sqlite3",
                    "peer_value": n / raw_s,
                    "unit": "events/s",
                    "goal": f"peak RSS {raw_rss:,.0f} MB",
                }
            )
    finally:
        for leftover in out_dir.glob("*"):
            leftover.unlink()
        out_dir.rmdir()
    return rows


if __name__ == "__main__":
    for row in run("--quick" in sys.argv):
        print(row)
