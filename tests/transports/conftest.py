"""Fixtures for the transport tests: a real Redis, unique stream names, worker processes."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from services import POSTGRES_URL, need_postgres, need_redis
from transports.helpers import WorkerProcess


@pytest.fixture
def redis_url() -> str:
    return need_redis()


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

    def start(consumer: str, *extra: str, db: str | None = None) -> WorkerProcess:
        args = ["--redis", redis_url, "--stream", stream, "--db", db or db_url]
        args += ["--consumer", consumer]
        worker = WorkerProcess([*args, *extra], tmp_path / f"worker-{consumer}.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL store URL in a schema of its own, dropped afterwards."""
    need_postgres()
    psycopg = pytest.importorskip("psycopg")
    schema = f"ff_transports_{uuid.uuid4().hex[:10]}"
    sep = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{sep}schema={schema}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store_url(request: pytest.FixtureRequest, db_url: str) -> str:
    """A store URL per backend the worker is tested against (SQLite file, PostgreSQL schema)."""
    if request.param == "sqlite":
        return db_url
    return str(request.getfixturevalue("pg_url"))
