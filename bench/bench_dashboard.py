"""Dashboard first paint: how long until a site dashboard shows its numbers.

Serves a SQLite file of demo events with `footfall serve` (uvicorn, one
worker) on loopback and opens `/<site>` in Debian's chromium (Playwright),
logged out, on a public site. Three times per page load, median of N loads:

- `shell`: DOMContentLoaded (the server-rendered page and its scripts),
  all three in the browser's own clock from the start of navigation,
- `first paint`: the browser's first-contentful-paint,
- `complete`: every top-line number, the chart and every panel filled
  (the moment the dashboard "opens"; the <= 1 s goal, dominated by the
  stats API's answers).

The data set is generated once per size and cached in the system temp
folder. Sizes: --quick 30 days (~55k events); full 365 days at scale 3
(~2M events). The 10M-event figure needs the stats engine's summaries;
run the stats benchmark for the engine alone.

ClickHouse, the same three times at 10M events (`FOOTFALL_BENCH_DASHBOARD_EVENTS`,
20,000 when quick): `FOOTFALL_BENCH_DASHBOARD_STORES` lists the stores
(`sqlite` as above, the default; `cluster`: the test suite's two-shard
cluster; `clickhouse`: one server). Each loads the overview benchmark's
events (`overview_data`, one 30-day file), compacts them, and serves them
with `footfall serve --db clickhouse://... --meta sqlite:///...` (sites in
the SQLite file); the page is the 30 days of the data.

    .venv/bin/python bench/run.py --only dashboard [--quick]
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.services import CHROMIUM, CHROMIUM_ARGS  # noqa: E402 - needs the path above

ARGS = CHROMIUM_ARGS

SITE = "demo.footfall.dev"
COMPLETE_JS = """() => {
  const panels = Array.from(document.querySelectorAll('.panel:not(.hidden) .status'));
  return panels.length > 0 && panels.every(s => s.textContent !== 'Loading\u2026')
    && !!document.querySelector('#chart .uplot')
    && Array.from(document.querySelectorAll('#topline [data-value]'))
         .every(v => v.textContent !== '\u2013');
}"""


def _dataset(days: int, scale: float) -> tuple[str, int]:
    path = Path(tempfile.gettempdir()) / f"footfall-bench-dashboard-{days}d-x{scale:g}.db"
    url = f"sqlite:///{path}"
    from footfall import connect
    from footfall.demo import generate_into

    store = connect(url)
    try:
        n = store.count()
        if n == 0:
            n = generate_into(store, days=days, seed=1, scale=scale, progress=False)
        try:
            from footfall.sites import add_site

            add_site(store, SITE, public=True)
        except Exception as exc:
            print(f"# {exc}", file=sys.stderr)
    finally:
        store.close()
    return url, n


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(db_url: str, port: int, meta: str = "") -> subprocess.Popen[bytes]:
    extra = ["--meta", meta] if meta else []
    proc = subprocess.Popen(
        [str(BIN / "footfall"), "serve", "--db", db_url, "--port", str(port), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("footfall serve did not start")


def _measure(url: str, runs: int) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    shell, paint, complete = [], [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            for i in range(runs + 1):  # the first load warms caches and is not counted
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = context.new_page()
                page.goto(url, wait_until="domcontentloaded")
                page.wait_for_function(COMPLETE_JS, timeout=120_000, polling=10)
                # Browser clocks, from the start of navigation.
                times = page.evaluate(
                    """() => ({
                      now: performance.now(),
                      dom: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd,
                      fcp: (performance.getEntriesByName('first-contentful-paint')[0]
                            || {startTime: 0}).startTime})"""
                )
                context.close()
                if i:
                    shell.append(float(times["dom"]))
                    paint.append(float(times["fcp"]))
                    complete.append(float(times["now"]))
        finally:
            browser.close()
    return {
        "shell": statistics.median(shell),
        "paint": statistics.median(paint),
        "complete": statistics.median(complete),
    }


def _clickhouse_rows(name: str, size: int, runs: int) -> list[dict[str, Any]]:
    """Every number shown, on a ClickHouse store holding `size` overview events."""
    import bench_stores  # lazy: the store factories start ClickHouse servers
    import overview_data

    from footfall.stats.summaries.clickhouse_compact import compact

    factory = bench_stores._ch_cluster_store if name == "cluster" else bench_stores._ch_store
    label = {"cluster": "clickhouse 18.16, 2-shard cluster", "clickhouse": "clickhouse 18.16"}
    data = overview_data.tsv(size, bench_stores.iter_events)
    with tempfile.TemporaryDirectory(prefix="footfall-bench-dashboard-") as tmpdir:
        store, drop = factory(Path(tmpdir))
        try:
            overview_data.load_clickhouse(store, data)
            compact(store, settle=0)  # what `footfall serve` keeps doing in the background
            meta = f"sqlite:///{Path(tmpdir) / 'meta.db'}"
            add = [str(BIN / "footfall"), "sites", "add", bench_stores.SITE, "--public"]
            subprocess.run(
                [*add, "--db", store.url, "--meta", meta],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            port = _free_port()
            proc = _serve(store.url, port, meta)
            try:
                days = "period=custom&date=2026-10-01,2026-10-30"  # the data's 30 days
                got = _measure(f"http://127.0.0.1:{port}/{bench_stores.SITE}?{days}", runs)
            finally:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)
        finally:
            drop()
            store.close()
    return [
        {
            "benchmark": f"dashboard 30 days, {size:,} events ({label[name]}): {what}",
            "footfall": got[key],
            "unit": "ms",
            "goal": "<= 1000 ms" if key == "complete" else "",
        }
        for key, what in (
            ("shell", "shell (DOMContentLoaded)"),
            ("paint", "first contentful paint"),
            ("complete", "every number shown"),
        )
    ]


def run(quick: bool) -> list[dict[str, Any]]:
    stores = os.environ.get("FOOTFALL_BENCH_DASHBOARD_STORES", "sqlite").split(",")
    size = int(os.environ.get("FOOTFALL_BENCH_DASHBOARD_EVENTS", 20_000 if quick else 10_000_000))
    rows: list[dict[str, Any]] = []
    for name in ("cluster", "clickhouse"):
        if name in stores:
            try:
                rows.extend(_clickhouse_rows(name, size, 3 if quick else 5))
            except Exception as exc:  # a missing server is reported, not fatal
                rows.append({"benchmark": f"dashboard ({name}): unavailable ({exc})"})
    if "sqlite" in stores:
        rows.extend(_sqlite_rows(quick))
    return rows


def _sqlite_rows(quick: bool) -> list[dict[str, Any]]:
    days, scale, runs = (30, 1.0, 3) if quick else (365, 3.0, 5)
    db_url, n = _dataset(days, scale)
    port = _free_port()
    proc = _serve(db_url, port)
    rows: list[dict[str, Any]] = []
    try:
        for period in ("30d", "12mo"):
            got = _measure(f"http://127.0.0.1:{port}/{SITE}?period={period}", runs)
            label = f"dashboard {period}, {n:,} events"
            rows.append(
                {
                    "benchmark": f"{label}: shell (DOMContentLoaded)",
                    "footfall": got["shell"],
                    "unit": "ms",
                }
            )
            rows.append(
                {
                    "benchmark": f"{label}: first contentful paint",
                    "footfall": got["paint"],
                    "unit": "ms",
                }
            )
            rows.append(
                {
                    "benchmark": f"{label}: every number shown",
                    "footfall": got["complete"],
                    "unit": "ms",
                    "goal": "<= 1000 ms (at 10M events)",
                }
            )
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    return rows
