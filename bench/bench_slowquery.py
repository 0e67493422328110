"""Slow-query guard: `/health` and ingestion latency while the worst stats queries run.

A real `footfall serve` (uvicorn, one worker, SQLite) holds N events (full:
1,000,000; --quick: 100,000) of one public site, with a planted
200-character path every 500 events. Eight client threads send the worst
queries back to back, two of each kind, for a fixed window:

- `aggregate`: `event:page==/**a**a**a**a**a**b` with the visit metrics (the
  visits of every event grouped, then the wildcard over every path);
- `breakdown`: entry pages filtered by `/*/**t`, a mix of `*` and `**` that
  almost every path passes GLOB for, so SQLite also runs the exact check in
  Python for nearly every visit;
- `funnel`: four wildcard steps, the first matching every page view, so
  every event goes back to Python in order;
- `timeseries`: two pathological alternatives, daily.

The server runs them eight at once (`FOOTFALL_STATS_CONCURRENCY=8`) within
the default 10 s budget; meanwhile one probe reads `/health` every 10 ms and
another posts one event every 50 ms, each timing its answers. The idle row
is the same probe before the load starts.

    .venv/bin/python bench/run.py --only slowquery [--quick]
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

BIN = Path(sys.executable).parent
SITE = "slow.example"
LONG = "/" + "a" * 199
WORKERS = 8
QUERIES: list[tuple[str, dict[str, Any]]] = [
    (
        "aggregate",
        {
            "metrics": "visitors,visits,pageviews,bounce_rate,visit_duration",
            "filters": "event:page==/**a**a**a**a**a**b",
        },
    ),
    (
        "breakdown",
        {
            "property": "visit:entry_page",
            "metrics": "visits",
            "filters": "visit:entry_page==/*/**t",
        },
    ),
    (
        "funnel",
        {
            "step": [
                "event:page==/**",
                "event:page==/*/**t",
                "event:page==/**a**a**a**a**a**b",
                "event:page==/docs/*",
            ]
        },
    ),
    (
        "timeseries",
        {"metrics": "visitors", "filters": "event:page==/**a**a**a**a**a**b|/*a*a*a*a*a*b"},
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _dataset(n: int) -> str:
    """A SQLite file of n events, summaries folded (cached in the temp folder)."""
    path = Path(tempfile.gettempdir()) / f"footfall-bench-slowquery-{n}.db"
    url = f"sqlite:///{path}"
    from footfall import connect
    from footfall.event import Event
    from footfall.sites import add_site
    from footfall.stats.summaries.catchup import catch_up

    store = connect(url)
    try:
        if store.count() < n:
            add_site(store, SITE, public=True)
            end = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
            start = end - timedelta(days=28)
            step = (end - start) / n
            batch: list[Event] = []
            for i in range(n):
                if i % 500 == 0:
                    page = LONG
                elif i % 3:
                    page = f"/blog/{i % 700}/post"
                else:
                    page = f"/docs/{i % 90}"
                batch.append(
                    Event(
                        name="pageview",
                        site=SITE,
                        path=page,
                        visitor_id=f"v{(i // 5) % 40_000}",
                        visit_id=f"s{i // 5}",
                        ts=start + step * i,
                    )
                )
                if len(batch) == 10_000:
                    store.write(batch)
                    batch = []
            if batch:
                store.write(batch)
        catch_up(store)  # the server should not fold a million events while measured
    finally:
        store.close()
    return url


class Server:
    """`footfall serve` in a subprocess (its own GIL), stopped with SIGINT."""

    def __init__(self, db: str, log: Path) -> None:
        self.port = _free_port()
        env = {
            **os.environ,
            "FOOTFALL_RATE_LIMIT": "off",
            "FOOTFALL_STATS_CONCURRENCY": str(WORKERS),
        }
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            [str(BIN / "footfall"), "serve", "--db", db, "--port", str(self.port)],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"footfall serve did not start; see {log}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.log.close()


def _probe(url: str, stop: threading.Event, every: float, post: bool) -> list[float]:
    """Latencies (ms) of /health GETs, or of one-event POSTs, until `stop`."""
    out: list[float] = []
    body = {"n": "pageview", "d": SITE, "u": f"https://{SITE}/probe"}
    with httpx.Client(base_url=url, timeout=60) as c:
        while not stop.is_set():
            t = time.perf_counter()
            r = c.post("/api/event", json=body) if post else c.get("/health")
            out.append((time.perf_counter() - t) * 1000)
            if r.status_code not in (200, 202):
                raise RuntimeError(f"probe got {r.status_code}: {r.text[:200]}")
            stop.wait(every)
    return out


def _worker(
    url: str, kind: str, params: dict[str, Any], stop: threading.Event, log: list[Any]
) -> None:
    path = "funnel" if kind == "funnel" else kind
    with httpx.Client(base_url=url, timeout=120) as c:
        while not stop.is_set():
            t = time.perf_counter()
            r = c.get(f"/api/v1/stats/{path}", params={"site_id": SITE, "period": "30d", **params})
            log.append((kind, r.status_code, (time.perf_counter() - t) * 1000))


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run(quick: bool) -> list[dict[str, Any]]:
    n = 100_000 if quick else 1_000_000
    window = 10.0 if quick else 30.0
    db = _dataset(n)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="ff-bench-slowquery-") as d:
        server = Server(db, Path(d) / "serve.log")
        try:
            stop = threading.Event()
            idle: list[float] = []
            t = threading.Thread(target=lambda: idle.extend(_probe(server.url, stop, 0.01, False)))
            t.start()
            time.sleep(3)
            stop.set()
            t.join()

            stop = threading.Event()
            log: list[Any] = []
            workers = [
                threading.Thread(target=_worker, args=(server.url, kind, params, stop, log))
                for kind, params in QUERIES * (WORKERS // len(QUERIES))
            ]
            for w in workers:
                w.start()
            time.sleep(1)  # every query under way before the probes start
            health: list[float] = []
            ingest: list[float] = []
            probes = [
                threading.Thread(
                    target=lambda: health.extend(_probe(server.url, stop, 0.01, False))
                ),
                threading.Thread(
                    target=lambda: ingest.extend(_probe(server.url, stop, 0.05, True))
                ),
            ]
            for p in probes:
                p.start()
            time.sleep(window)
            stop.set()
            for th in probes + workers:
                th.join(180)
        finally:
            server.stop()
    answers = Counter(status for _, status, _ in log)
    done = [ms for _, status, ms in log if status == 200]
    label = f"while {WORKERS} worst-case stats queries run (SQLite, {n:,} events)"
    rows.append(
        {
            "benchmark": f"/health p99 {label}",
            "footfall": round(_pct(health, 99), 1),
            "peer": "idle server, same probe",
            "peer_value": round(_pct(idle, 99), 1),
            "unit": "ms",
            "goal": "<= 100",
        }
    )
    rows.append(
        {
            "benchmark": f"  /health p50, max ({len(health):,} probes)",
            "footfall": round(_pct(health, 50), 1),
            "peer": "max",
            "peer_value": round(max(health), 1),
            "unit": "ms",
        }
    )
    rows.append(
        {
            "benchmark": f"  POST /api/event p99 ({len(ingest):,} probes)",
            "footfall": round(_pct(ingest, 99), 1),
            "peer": "p50",
            "peer_value": round(_pct(ingest, 50), 1),
            "unit": "ms",
            "goal": "<= 100",
        }
    )

    def median_s(kind: str) -> float:
        return statistics.median([ms for k, s, ms in log if k == kind and s == 200] or [0]) / 1000

    by_kind = ", ".join(f"{kind} {median_s(kind):.1f}" for kind, _ in QUERIES)
    rows.append(
        {
            "benchmark": f"  stats answers in {window:.0f} s: 200 x{answers.get(200, 0)},"
            f" 503 (over the 10 s budget) x{answers.get(503, 0)},"
            f" other x{sum(v for k, v in answers.items() if k not in (200, 503))};"
            f" median s of the 200s: {by_kind}",
            "footfall": round(statistics.median(done)) if done else None,
            "unit": "ms (median 200)",
        }
    )
    return rows
