"""The collector behind a real `footfall serve` (uvicorn) on a free loopback port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from footfall.sites import add_site, create_token
from footfall.stores import EventFilter, connect

FOOTFALL = str(Path(sys.executable).parent / "footfall")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _request(url, data=None, headers=None, method=None):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


@pytest.fixture
def server(tmp_path):
    url = f"sqlite:///{tmp_path / 'live.db'}"
    store = connect(url)
    add_site(store, "live.example")
    _, token = create_token(store, "live")
    store.close()
    port = _free_port()
    env = {**os.environ, "FOOTFALL_RATE_LIMIT": "2/4", "FOOTFALL_NO_SIGNALS": ""}
    proc = subprocess.Popen(
        [FOOTFALL, "serve", "--db", url, "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if _request(base + "/health")[0] == 200:
                break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("footfall serve did not start: " + proc.stdout.read().decode())

    def stop():
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)  # graceful: flushes the queue
            proc.wait(30)

    yield base, url, token, stop
    stop()


def test_live_server_ingests_and_flushes_on_shutdown(server):
    base, url, token, stop = server
    events = [{"name": "job", "site": "live.example", "user_id": f"u{i}"} for i in range(300)]
    events.insert(150, {"name": "bad", "site": "unknown.example"})
    status, _, body = _request(
        base + "/api/event",
        json.dumps({"events": events}).encode(),
        {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    assert status == 202, body
    assert json.loads(body)["accepted"] == 300
    status, headers, body = _request(
        base + "/api/event.gif?site=live.example&url=https://live.example/x",
        headers={"User-Agent": "Mozilla/5.0"},
    )
    assert status == 200 and headers["Content-Type"] == "image/gif"
    status, headers, _ = _request(
        base + "/api/event",
        headers={"Origin": "https://live.example", "Access-Control-Request-Method": "POST"},
        method="OPTIONS",
    )
    assert status == 204 and headers["Access-Control-Allow-Origin"] == "*"
    beacon = json.dumps({"n": "pageview", "d": "live.example", "u": "https://live.example/b"})
    statuses = [
        _request(base + "/api/event", beacon.encode(), {"Content-Type": "text/plain"})[0]
        for _ in range(6)
    ]
    assert statuses[0] == 202 and 429 in statuses  # burst of 4 per IP, the pixel took one
    stop()
    store = connect(url)
    assert store.count(filters=EventFilter(name="job")) == 300
    assert store.count(filters=EventFilter(name="pageview")) == 1 + statuses.count(202)
    store.close()
