"""`footfall serve` and `footfall worker` say what they really do, and with which store."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.server.helpers import post_events, serving, site_and_token, wait_for
from tests.services import REDIS_URL, need_redis

import footfall
from footfall.delivery.redis_sink import redis_client

FOOTFALL = str(Path(sys.executable).parent / "footfall")


@pytest.fixture
def redis() -> Iterator[Any]:
    client = redis_client(need_redis())
    yield client
    client.close()


@pytest.fixture
def stream(redis: Any) -> Iterator[str]:
    """A stream no other test uses, deleted afterwards."""
    name = f"footfall-test:{uuid.uuid4().hex[:12]}"
    yield name
    redis.delete(name, f"{name}:dead")


def test_serve_names_its_store_first_and_serves_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'footfall.db'}"
    with serving(url, tmp_path / "serve.log") as server:
        lines = server.output().splitlines()
    assert lines[0] == f"footfall: store {url} (new file)"
    assert f"footfall serving {url} on http://127.0.0.1:{server.port}" in lines


def test_serve_with_redis_says_where_events_go_and_honours_footfall_stream(
    tmp_path: Path, redis: Any, stream: str
) -> None:
    url = f"sqlite:///{tmp_path / 'footfall.db'}"
    token = site_and_token(url)
    with serving(
        url, tmp_path / "serve.log", "--redis", REDIS_URL, FOOTFALL_STREAM=stream
    ) as server:
        output = server.output()
        assert post_events(server.base, token, 0, 3).status == 202
        wait_for(lambda: redis.xlen(stream) > 0, f"the collector's XADD to {stream}")
    assert output.splitlines()[0] == f"footfall: store {url}"
    assert f"appends events to Redis stream {stream!r} at {REDIS_URL}" in output
    assert f"the dashboard read {url}" in output
    assert "footfall serving sqlite" not in output
    with footfall.connect(url) as store:
        assert store.count() == 0  # the worker stores them, not the collector


def test_worker_names_its_store_first(tmp_path: Path, redis: Any, stream: str) -> None:
    url = f"sqlite:///{tmp_path / 'footfall.db'}"
    done = subprocess.run(
        [FOOTFALL, "worker", "--redis", REDIS_URL, "--stream", stream, "--db", url, "--burst"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[0] == f"footfall: store {url} (new file)"
    assert f"stores stream {stream!r} at {REDIS_URL}" in done.stderr
