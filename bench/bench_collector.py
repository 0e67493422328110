"""Collector throughput: events/s accepted and stored, batched POSTs and pixel GETs.

Drives a real `footfall serve` (uvicorn, 1 and 2 workers, SQLite) on
loopback with wrk and a Lua script. "accepted" sums the `accepted` counts of
the 202 answers (batched) or counts 200 answers (pixel); "stored" is what the
store holds once the server has drained its queue and shut down. Each load
run is bounded (10 s, 3 s with --quick).

stored must equal accepted, except for the requests wrk had in flight when
its clock ran out: the server accepted and stored those, but wrk drops their
answers uncounted. So the check is accepted <= stored <= accepted + (open
connections x events per request), and the row says by how much.

The cluster layout of docs/clickhouse-cluster.md, beside one box in the same
run (`FOOTFALL_BENCH_COLLECTOR_CLUSTER=1`, or alone with `=only`): two
`footfall serve --redis` collectors and two `footfall worker`s into the
test suite's two-shard ClickHouse cluster, sites and tokens in PostgreSQL
(`--meta`, a schema of its own), one wrk per collector; against one
`footfall serve` on SQLite with one wrk at the same total connections.
"stored" is counted once the workers have drained the stream.

    .venv/bin/python bench/run.py --only collector
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FOOTFALL = str(BIN / "footfall")
WRK = shutil.which("wrk") or "/usr/bin/wrk"
SITE = "bench.example"
UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Safari/537.36"
)

POST_LUA = """
wrk.method = "POST"
local f = io.open("{body}", "r")
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function init(args) accepted = 0 end
function response(status, headers, body)
  local n = body:match('"accepted":(%d+)')
  if n then accepted = accepted + tonumber(n) end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("accepted") end
  io.write(string.format("ACCEPTED %d\\n", total))
end
"""

GET_LUA = """
wrk.headers["User-Agent"] = "{ua}"
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function init(args) accepted = 0 end
function response(status, headers, body)
  if status == 200 then accepted = accepted + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("accepted") end
  io.write(string.format("ACCEPTED %d\\n", total))
end
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(*args: str) -> str:
    out = subprocess.run([FOOTFALL, *args], capture_output=True, text=True, check=True)
    return out.stdout


def _count(db: str) -> int:
    from footfall.stores import connect

    store = connect(db, migrate=False)  # a read: no write lock taken
    try:
        return store.count()
    finally:
        store.close()


class Server:
    """`footfall serve` in a subprocess, stopped with SIGINT so it flushes its queue."""

    def __init__(self, db: str, workers: int, log: Path, extra: tuple[str, ...] = ()) -> None:
        self.port = _free_port()
        env = {**os.environ, "FOOTFALL_RATE_LIMIT": "off", "FOOTFALL_NO_SIGNALS": ""}
        self.log = log.open("w")
        serve = [FOOTFALL, "serve", "--db", db, "--port", str(self.port), *extra]
        self.proc = subprocess.Popen(
            [*serve, "--workers", str(workers)],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"footfall serve did not start; see {log}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, timeout: float = 60) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.log.close()


def _wait_drained(db: str, accepted: int, patience: float = 5.0, limit: float = 180.0) -> float:
    """When the store holds every accepted event (or stopped growing); a monotonic time.

    The server is stopped only after this: its shutdown flush is bounded (5 s),
    so stopping with a deep queue would lose events and blur stored vs accepted.
    """
    deadline = time.monotonic() + limit
    last, last_change = -1, time.monotonic()
    while time.monotonic() < deadline:
        n = _count(db)
        now = time.monotonic()
        if n >= accepted:
            return now
        if n != last:
            last, last_change = n, now
        elif now - last_change > patience:
            return last_change
        time.sleep(0.25)
    return time.monotonic()


def _wrk(url: str, script: Path, seconds: int, conns: int) -> tuple[int, int]:
    return _wrk_all([url], script, seconds, conns)


def _wrk_all(urls: list[str], script: Path, seconds: int, conns: int) -> tuple[int, int]:
    """One wrk per URL at once, `conns` connections each; (accepted, requests) summed."""
    procs = [
        subprocess.Popen(
            [WRK, "-t1", f"-c{conns}", f"-d{seconds}s", "-s", str(script), url],
            stdout=subprocess.PIPE,
            text=True,
        )
        for url in urls
    ]
    accepted = requests = 0
    for proc in procs:
        out, _ = proc.communicate(timeout=seconds + 60)
        if proc.returncode:
            raise RuntimeError(f"wrk failed ({proc.returncode})")
        accepted += int(re.search(r"ACCEPTED (\d+)", out).group(1))  # type: ignore[union-attr]
        requests += int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return accepted, requests


def _post_script(tmp: Path, token: str) -> Path:
    """The wrk script posting one 100-event batch per request."""
    events = [
        {
            "name": "pageview",
            "site": SITE,
            "url": f"https://{SITE}/page/{i}",
            "referrer": "https://www.google.com/",
            "user_agent": UA,
            "visitor_id": f"v{i % 37}",
        }
        for i in range(100)
    ]
    body = tmp / "body.json"
    body.write_text(json.dumps({"events": events}))
    script = tmp / "post.lua"
    script.write_text(POST_LUA.format(body=body, token=token))
    return script


def _one(tmp: Path, kind: str, workers: int, seconds: int) -> dict[str, Any]:
    db = f"sqlite:///{tmp / f'{kind}-{workers}.db'}"
    _cli("sites", "add", SITE, "--db", db)
    token = _cli("token", "create", "--name", "bench", "--db", db).strip().splitlines()[-1]
    if kind == "batched":
        script = _post_script(tmp, token)
        path, conns = "/api/event", 16
    else:
        script = tmp / "get.lua"
        script.write_text(GET_LUA.format(ua=UA))
        path, conns = f"/api/event.gif?site={SITE}&url=https://{SITE}/px&ref=https://a.example/", 32
    server = Server(db, workers, tmp / f"serve-{kind}-{workers}.log")
    started = time.monotonic()
    try:
        accepted, requests = _wrk(server.url + path, script, seconds, conns)
        drained = _wait_drained(db, accepted)
    finally:
        server.stop()
    elapsed = drained - started  # load, then the worker draining its queue
    stored = _count(db)
    per_request = 100 if kind == "batched" else 1
    return {
        "in_flight_max": conns * per_request,
        "kind": kind,
        "workers": workers,
        "accepted_per_s": accepted / seconds,
        "stored_per_s": stored / elapsed,
        "requests_per_s": requests / seconds,
        "accepted": accepted,
        "stored": stored,
    }


class Worker:
    """`footfall worker` in a subprocess, stopped with SIGINT (it finishes its batch)."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            [FOOTFALL, "worker", *args],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self, timeout: float = 60) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.log.close()


def _cluster_layout(tmp: Path, seconds: int, conns: int) -> dict[str, Any]:
    """Two collectors into Redis, two workers into the two-shard cluster, PostgreSQL
    for sites and tokens: wrk on both collectors at once, then the workers drain."""
    import contextlib
    import uuid
    from urllib.parse import urlsplit

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # the test suite's cluster and private Redis
    from tests.clickhouse_cluster import cluster_url, why_unavailable
    from tests.faults.private import redis
    from tests.services import POSTGRES_URL, port_open

    from footfall.stores import ch_cluster, connect

    base = cluster_url()
    if base is None:
        raise RuntimeError(why_unavailable())
    if not port_open("127.0.0.1", urlsplit(POSTGRES_URL).port or 5432):
        raise RuntimeError(f"no PostgreSQL at {POSTGRES_URL}")
    import psycopg

    name = f"ff_bench_{uuid.uuid4().hex[:10]}"
    ch = urlsplit(base)._replace(path=f"/{name}").geturl()
    meta = f"{POSTGRES_URL}?schema={name}"
    with contextlib.ExitStack() as stack:

        def drop() -> None:
            store = connect(ch, migrate=False)
            try:
                for host in ch_cluster.hosts(store.client, store.cluster):  # type: ignore[attr-defined]
                    with ch_cluster.on_host(store.driver_url, host) as c:  # type: ignore[attr-defined]
                        c.execute(f"DROP DATABASE IF EXISTS {name}")
            finally:
                store.close()
            with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
                admin.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")

        stack.callback(drop)
        broker = stack.enter_context(redis(tmp / "redis"))
        both = ("--db", ch, "--meta", meta)
        _cli("migrate", *both)
        _cli("sites", "add", SITE, *both)
        token = _cli("token", "create", "--name", "bench", *both).strip().splitlines()[-1]
        script = _post_script(tmp, token)
        serve = ("--meta", meta, "--redis", broker.url, "--stream", "footfall")
        servers = []
        for i in range(2):
            servers.append(Server(ch, 1, tmp / f"serve-cluster-{i}.log", serve))
            stack.callback(servers[-1].stop)
        for i in range(2):
            worker = Worker(
                [*both, "--redis", broker.url, "--stream", "footfall", "--consumer", f"w{i}"],
                tmp / f"worker-{i}.log",
            )
            stack.callback(worker.stop)
        started = time.monotonic()
        urls = [f"{srv.url}/api/event" for srv in servers]
        accepted, requests = _wrk_all(urls, script, seconds, conns // 2)
        drained = _wait_drained(ch, accepted, patience=10.0)
        stored = _count(ch)
    return {
        "in_flight_max": conns * 100,
        "accepted_per_s": accepted / seconds,
        "stored_per_s": stored / (drained - started),
        "requests_per_s": requests / seconds,
        "accepted": accepted,
        "stored": stored,
    }


def _cluster_rows(tmp: Path, seconds: int) -> list[dict[str, Any]]:
    """The cluster layout and one SQLite box, 16 connections each, in one run."""
    conns = 16
    where = tmp / "cluster"
    where.mkdir()
    try:
        cluster = _cluster_layout(where, seconds, conns)
    except Exception as exc:  # a missing service is reported, not fatal
        return [{"benchmark": f"collector, cluster layout: unavailable ({exc})"}]
    box_dir = tmp / "one-box"
    box_dir.mkdir()
    box = _one(box_dir, "batched", 1, seconds)
    rows = []
    for label, r in (
        ("2 collectors (--redis) + 2 workers, 2-shard ClickHouse, PostgreSQL meta", cluster),
        ("1 footfall serve, SQLite", box),
    ):
        extra = r["stored"] - r["accepted"]
        if 0 <= extra <= r["in_flight_max"]:
            same = "stored=accepted" + (f" +{extra} in flight" if extra else "")
        else:
            same = f"MISMATCH stored {r['stored']} != accepted {r['accepted']}"
        rows.append(
            {
                "benchmark": f"POST 100-event batches, {label}: accepted ({same})",
                "footfall": round(r["accepted_per_s"]),
                "unit": "events/s",
            }
        )
        rows.append(
            {
                "benchmark": f"  same, stored (until the store holds them: {r['stored']:,})",
                "footfall": round(r["stored_per_s"]),
                "unit": "events/s",
            }
        )
    rows[0].update(
        peer="1 footfall serve, SQLite",
        peer_value=round(box["accepted_per_s"]),
        ratio=round(cluster["accepted_per_s"] / box["accepted_per_s"], 2),
    )
    rows[1].update(
        peer="1 footfall serve, SQLite",
        peer_value=round(box["stored_per_s"]),
        ratio=round(cluster["stored_per_s"] / box["stored_per_s"], 2),
    )
    return rows


def _request_path(tmp: Path, quick: bool) -> list[dict[str, Any]]:
    """The collector's own cost: ASGI calls in-process, events enqueued to a tracker
    with no processors and no sinks, so neither the network, the load generator
    nor the worker's enrichment and store writes are counted."""
    import asyncio

    from footfall.collector.ingest import collector_for
    from footfall.server.app import create_app
    from footfall.tracker import Tracker

    db = f"sqlite:///{tmp / 'inproc.db'}"
    _cli("sites", "add", SITE, "--db", db)
    token = _cli("token", "create", "--name", "bench", "--db", db).strip().splitlines()[-1]
    os.environ["FOOTFALL_RATE_LIMIT"] = "off"
    app = create_app(db)
    collector = collector_for(app.state.footfall)
    collector.tracker = Tracker([], [], queue_size=10_000_000)
    events = [
        {"name": "pageview", "site": SITE, "url": f"https://{SITE}/p/{i}", "user_agent": UA}
        for i in range(100)
    ]
    body = json.dumps({"events": events}).encode()
    post_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"authorization", f"Bearer {token}".encode()),
    ]
    gif_qs = f"site={SITE}&url=https://{SITE}/px&ref=https://a.example/".encode()
    get_headers = [(b"user-agent", UA.encode())]

    async def call(method: str, path: str, qs: bytes, headers: Any, payload: bytes) -> int:
        scope = {
            "type": "http", "method": method, "path": path, "raw_path": path.encode(),
            "query_string": qs, "headers": headers, "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80), "scheme": "http", "http_version": "1.1",
            "root_path": "", "app": app,
        }  # fmt: skip
        status = 0

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": payload, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await app(scope, receive, send)
        return status

    async def loop(n: int, *args: Any) -> float:
        started = time.perf_counter()
        for _ in range(n):
            assert await call(*args) in (200, 202)
        return time.perf_counter() - started

    n_post, n_get = (50, 1000) if quick else (300, 5000)
    medians = []
    for args, n in (
        (("POST", "/api/event", b"", post_headers, body), n_post),
        (("GET", "/api/event.gif", gif_qs, get_headers, b""), n_get),
    ):
        runs = sorted(asyncio.run(loop(n, *args)) for _ in range(3))
        medians.append(n / runs[1])
    collector.tracker.close()
    return [
        {
            "benchmark": "collector request path only, POST 100-event batches (in-process ASGI)",
            "footfall": round(medians[0] * 100),
            "unit": "events/s",
            "goal": "(the collector's own share)",
        },
        {
            "benchmark": "collector request path only, pixel GET (in-process ASGI)",
            "footfall": round(medians[1]),
            "unit": "requests/s",
            "goal": "(the collector's own share)",
        },
    ]


def _snowplow_peer(tmp: Path, seconds: int) -> float | None:
    """The snowplow-tracker Python client's own rate: page views through its POST
    emitter (batches of 100) to `footfall serve`, timed until its last flush."""
    try:
        from snowplow_tracker import Emitter, PageView, Tracker
    except ImportError:
        return None
    import logging

    for name in ("snowplow_tracker.emitters", "snowplow_tracker.snowplow"):
        logging.getLogger(name).setLevel(logging.WARNING)  # it logs every batch at INFO
    db = f"sqlite:///{tmp / 'snowplow-peer.db'}"
    _cli("sites", "add", SITE, "--db", db)
    server = Server(db, 1, tmp / "serve-snowplow.log")
    try:
        emitter = Emitter(
            "127.0.0.1", protocol="http", port=server.port, method="post", batch_size=100
        )
        tracker = Tracker(namespace="bench", emitters=emitter, app_id=SITE)
        n, started = 0, time.monotonic()
        while time.monotonic() - started < seconds:
            for _ in range(100):
                tracker.track(PageView(page_url=f"https://{SITE}/p/{n}", referrer=""))
                n += 1
        tracker.flush()
        return n / (time.monotonic() - started)
    finally:
        server.stop()


def run(quick: bool) -> list[dict[str, Any]]:
    seconds = 3 if quick else 10
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="ff-bench-collector-") as d:
        tmp = Path(d)
        cluster = os.environ.get("FOOTFALL_BENCH_COLLECTOR_CLUSTER", "")
        if cluster and Path(WRK).exists():
            rows.extend(_cluster_rows(tmp, seconds))
            if cluster == "only":
                return rows
        rows.extend(_request_path(tmp, quick))
        if not Path(WRK).exists():
            rows.append({"benchmark": "collector over HTTP: skipped (wrk is not installed)"})
            return rows
        peer = _snowplow_peer(tmp, seconds)
        for kind in ("batched", "pixel"):
            for workers in (1, 2):
                r = _one(tmp, kind, workers, seconds)
                print(json.dumps(r), file=sys.stderr)
                name = f"{'POST 100-event batches' if kind == 'batched' else 'pixel GET'}"
                extra = r["stored"] - r["accepted"]
                if 0 <= extra <= r["in_flight_max"]:
                    same = "stored=accepted" + (f" +{extra} in flight" if extra else "")
                else:
                    same = f"MISMATCH stored {r['stored']} != accepted {r['accepted']}"
                goal = ">= 50,000 events/s" if kind == "batched" else ">= 3,000 requests/s"
                with_peer: dict[str, Any] = {}
                if kind == "batched" and peer:
                    with_peer = {
                        "peer": "snowplow-tracker (Python) POST emitter",
                        "peer_value": round(peer),
                        "ratio": round(r["accepted_per_s"] / peer, 2),
                    }
                rows.append(
                    {
                        **with_peer,
                        "benchmark": f"collector {name}, {workers} worker(s): accepted ({same})",
                        "footfall": round(r["accepted_per_s"]),
                        "unit": "events/s",
                        "goal": goal,
                    }
                )
                rows.append(
                    {
                        "benchmark": f"collector {name}, {workers} worker(s): stored, with drain",
                        "footfall": round(r["stored_per_s"]),
                        "unit": "events/s",
                        "goal": goal,
                    }
                )
        rows.extend(_switched_off(tmp, seconds))
    return rows


def _switched_off(tmp: Path, seconds: int) -> list[dict[str, Any]]:
    """The batched runs again with one mechanism off, each beside a run with it on.

    Admission control (`FOOTFALL_ADMIT_WAIT=0`: a deep queue answers 503 at
    once) with 1 and 2 workers, and the SQLite writer lock
    (`FOOTFALL_SQLITE_WRITER_LOCK=0`: writers wait in SQLite's busy handler)
    with 2 workers, the only case where writers contend.
    """
    rows: list[dict[str, Any]] = []
    cases = [
        ("FOOTFALL_ADMIT_WAIT", "admission off (503 at once)", 1),
        ("FOOTFALL_ADMIT_WAIT", "admission off (503 at once)", 2),
        ("FOOTFALL_SQLITE_WRITER_LOCK", "writer lock off (SQLite busy handler)", 2),
    ]
    for n, (variable, label, workers) in enumerate(cases):
        runs: dict[bool, float] = {}
        for on in (False, True):
            where = tmp / f"switch-{n}-{'on' if on else 'off'}"
            where.mkdir()
            if not on:
                os.environ[variable] = "0"
            try:
                runs[on] = _one(where, "batched", workers, seconds)["stored_per_s"]
            finally:
                os.environ.pop(variable, None)
        rows.append(
            {
                "benchmark": f"  same, {workers} worker(s), stored: {label}",
                "footfall": round(runs[False]),
                "peer": "on (the default), run next",
                "peer_value": round(runs[True]),
                "ratio": round(runs[True] / runs[False], 2),
                "unit": "events/s",
            }
        )
    return rows


if __name__ == "__main__":
    for row in run("--quick" in sys.argv):
        print(row)
