"""Fixtures for the transport tests: a real Redis, unique stream names, worker processes."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from services import REDIS_URL, need_port
from transports.helpers import WorkerProcess


@pytest.fixture
def redis_url() -> str:
    parts = urlsplit(REDIS_URL)
    need_port("Redis", parts.hostname or "127.0.0.1", parts.port or 6379)
    return REDIS_URL


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[Any]:
    from footfall.delivery.redis_sink import redis_client as make

    client = make(redis_url)
    yield client
    client.close()


@pytest.fixture
def stream(redis_client: Any) -> Iterator[str]:
    """A stream name no other test (or concurrent run) uses; deleted afterwards."""
    name = f"footfall-test:{uuid.uuid4().hex[:12]}"
    yield name
    redis_client.delete(name, f"{name}:dead")


@pytest.fixture
def start_worker(
    tmp_path: Path, redis_url: str, stream: str, db_url: str
) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(consumer: str, *extra: str) -> WorkerProcess:
        args = ["--redis", redis_url, "--stream", stream, "--db", db_url, "--consumer", consumer]
        worker = WorkerProcess([*args, *extra], tmp_path / f"worker-{consumer}.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
