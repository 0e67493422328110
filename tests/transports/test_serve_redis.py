"""The scale-out layout end to end: `footfall serve --redis` -> stream -> `footfall worker`."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from footfall import connect
from footfall.sites import add_site, create_token
from transports.helpers import Serve, WorkerProcess, wait_for
from transports.http_app import free_port


def post(url: str, token: str, body: dict[str, Any]) -> int:
    request = urllib.request.Request(
        f"{url}/api/event",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def test_collector_appends_to_the_stream_and_a_worker_stores(
    redis_url: str, redis_client: Any, stream: str, db_url: str, tmp_path: Path
) -> None:
    setup = connect(db_url)
    add_site(setup, "example.com")
    _, token = create_token(setup, "backend", "example.com")
    setup.close()
    serve = Serve(
        db_url, free_port(), tmp_path / "serve.log", "--redis", redis_url, "--stream", stream
    )
    serve.start()
    try:
        events = [{"name": "pageview", "url": f"https://example.com/{i}"} for i in range(25)]
        assert post(serve.url, token, {"events": events}) == 202
        # The collector stored nothing itself: the events are in the stream.
        wait_for(lambda: redis_client.xlen(stream) > 0, what="the collector's XADD")
        assert connect(db_url).count() == 0
    finally:
        serve.stop()
    cmd = ["--redis", redis_url, "--stream", stream, "--db", db_url, "--burst"]
    worker = WorkerProcess(cmd, tmp_path / "worker.log")
    try:
        assert worker.wait() == 0, worker.output()
    finally:
        worker.stop()
    store = connect(db_url)
    paths = sorted(e.path for e in store.get_usage(limit=100))
    assert paths == sorted(f"/{i}" for i in range(25))
    store.close()
