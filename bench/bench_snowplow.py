"""The snowplow-tracker client's own throughput, sending to `footfall serve` on loopback.

The Python Snowplow tracker (PyPI `snowplow-tracker`) tracks page views
through its synchronous POST emitter (batches of `BATCH` events, one
keep-alive `requests.Session`) to a real `footfall serve` (SQLite, 1 worker,
rate limit off). Beside it, the same client sends to a do-nothing HTTP
server that answers every POST with `200 ok`: that is the client's own
ceiling. The ratio shows how much of the client's speed footfall keeps; the
collector's own rows (bench_collector.py) show that footfall's batched
ingestion is several times faster than this client can send.

Each run is bounded (`EVENTS` events, at most `RUN_SECONDS`); the figure is
the median of `REPEATS` runs. Stored events are counted from the SQLite file
after the server drained its queue, so "stored = sent" is checked too.

    .venv/bin/python bench/run.py --only snowplow
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sqlite3
import statistics
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
SITE = "bench.example"
BATCH = 100
RUN_SECONDS = 20.0  # a run stops tracking after this, whatever its size
STARTUP_SECONDS = 30.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_http(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {STARTUP_SECONDS}s")


# -- the do-nothing server (run in its own process) ----------------------------------------


OK_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


async def _null_handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length:
                await reader.readexactly(length)
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        writer.close()


def _serve_null(port: int) -> None:
    async def main() -> None:
        server = await asyncio.start_server(_null_handler, "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# -- the client ----------------------------------------------------------------------------


def _send(port: int, events: int) -> tuple[float, int]:
    """Track `events` page views through a POST emitter; return (events/s, events sent)."""
    import requests
    from snowplow_tracker import Emitter, PageView, Subject, Tracker

    logging.getLogger("snowplow_tracker.emitters").setLevel(logging.WARNING)
    failed: list[int] = []
    with requests.Session() as session:
        emitter = Emitter(
            "127.0.0.1",
            protocol="http",
            port=port,
            method="post",
            batch_size=BATCH,
            request_timeout=10,
            session=session,
            on_failure=lambda ok, unsent: failed.append(len(unsent)),
        )
        subject = Subject().set_platform("web").set_domain_user_id("bench-visitor")
        tracker = Tracker(namespace="bench", emitters=emitter, subject=subject, app_id=SITE)
        started = time.perf_counter()
        sent = 0
        while sent < events and time.perf_counter() - started < RUN_SECONDS:
            tracker.track(PageView(page_url=f"https://{SITE}/page/{sent % 50}", page_title="Bench"))
            sent += 1
        tracker.flush()
        elapsed = time.perf_counter() - started
    if failed:
        raise RuntimeError(f"the emitter reported {sum(failed)} unsent events")
    return sent / elapsed, sent


def _stored(db: Path, expected: int, timeout: float = 30.0) -> int:
    deadline = time.monotonic() + timeout
    count = 0
    while time.monotonic() < deadline:
        with sqlite3.connect(db, timeout=10) as conn:
            count = conn.execute(
                "SELECT count(*) FROM events WHERE source = 'snowplow'"
            ).fetchone()[0]
        if count >= expected:
            break
        time.sleep(0.2)
    return int(count)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def run(quick: bool) -> list[dict[str, Any]]:
    events = 3_000 if quick else 20_000
    repeats = 1 if quick else 3
    with tempfile.TemporaryDirectory(prefix="footfall-bench-sp-") as tmp:
        db = Path(tmp) / "bench.db"
        url = f"sqlite:///{db}"
        env = {**os.environ, "FOOTFALL_RATE_LIMIT": "off", "FOOTFALL_NO_SIGNALS": "1"}
        subprocess.run(
            [FOOTFALL, "sites", "add", SITE, "--db", url], check=True, env=env, capture_output=True
        )
        port, null_port = _free_port(), _free_port()
        server = subprocess.Popen(
            [FOOTFALL, "serve", "--db", url, "--port", str(port), "--workers", "1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        null = subprocess.Popen([sys.executable, __file__, "--null-server", str(null_port)])
        try:
            _wait_http(f"http://127.0.0.1:{port}/health", server)
            _wait_for_port(null_port, null)
            _send(port, 200)  # warm up both sides (imports, connections, SQLite pages)
            _send(null_port, 200)
            to_footfall, to_null, sent_total = [], [], 200
            for _ in range(repeats):
                rate, sent = _send(port, events)
                to_footfall.append(rate)
                sent_total += sent
                to_null.append(_send(null_port, events)[0])
            stored = _stored(db, sent_total)
        finally:
            _stop(server)
            _stop(null)
    footfall_rate = statistics.median(to_footfall)
    null_rate = statistics.median(to_null)
    return [
        {
            "benchmark": f"snowplow-tracker POST emitter (batch {BATCH}) -> footfall serve",
            "footfall": footfall_rate,
            "peer": "same client -> do-nothing server",
            "peer_value": null_rate,
            "ratio": footfall_rate / null_rate,
            "unit": "events/s",
            "goal": "shown beside footfall rows; client ceiling ~10,700/s",
        },
        {
            "benchmark": "snowplow-tracker events stored = sent",
            "footfall": stored,
            "peer": "sent",
            "peer_value": sent_total,
            "ratio": stored / sent_total,
            "unit": "events",
            "goal": "stored = sent",
        },
    ]


def _wait_for_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the do-nothing server exited")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} did not open")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--null-server":
        _serve_null(int(sys.argv[2]))
    else:
        for row in run("--quick" in sys.argv):
            print(row)
