"""Real servers for tests: find them, or skip (fail under FOOTFALL_REQUIRE_SERVICES=1)."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import pytest

REQUIRE = os.environ.get("FOOTFALL_REQUIRE_SERVICES") == "1"

# The shared servers every test uses, named here and nowhere else (docs/configuration.md,
# "Test suite"). Tests write only in names of their own: a PostgreSQL schema or Redis key
# with a random suffix, dropped afterwards; nothing flushes a database.
POSTGRES_URL = os.environ.get("FOOTFALL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("FOOTFALL_TEST_REDIS", "redis://127.0.0.1:6379/0")
RABBITMQ_URL = os.environ.get("FOOTFALL_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672//")
DEFAULT_PORTS = {"postgresql": 5432, "redis": 6379, "amqp": 5672}

# Debian's chromium (apt-get install chromium), never a browser `playwright install` fetched.
CHROMIUM = os.environ.get("FOOTFALL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def unavailable(reason: str) -> None:
    """Skip with `reason`, or fail when CI requires every service."""
    if REQUIRE:
        pytest.fail(f"required service missing: {reason}", pytrace=False)
    pytest.skip(reason)


def need_port(name: str, host: str, port: int) -> None:
    if not port_open(host, port):
        unavailable(f"{name} is not running on {host}:{port}")


def need_url(name: str, url: str) -> str:
    """`url` once its server answers on its host and port; else skip (fail in CI)."""
    parts = urlsplit(url)
    need_port(name, parts.hostname or "127.0.0.1", parts.port or DEFAULT_PORTS[parts.scheme])
    return url


def need_postgres() -> str:
    """The shared PostgreSQL's URL (`FOOTFALL_TEST_POSTGRES`), or skip."""
    return need_url("PostgreSQL", POSTGRES_URL)


def need_redis() -> str:
    """The shared Redis's URL (`FOOTFALL_TEST_REDIS`), or skip."""
    return need_url("Redis", REDIS_URL)


def need_rabbitmq() -> str:
    """The shared RabbitMQ's URL (`FOOTFALL_TEST_RABBITMQ`), or skip."""
    return need_url("RabbitMQ", RABBITMQ_URL)


def with_query(url: str, **params: str) -> str:
    """`url` with `params` appended to its query string (`?schema=...`)."""
    extra = "&".join(f"{key}={value}" for key, value in params.items())
    return f"{url}{'&' if '?' in url else '?'}{extra}"


@contextmanager
def postgres_schema(prefix: str, **params: str) -> Iterator[str]:
    """A store URL in a new schema of the shared PostgreSQL, dropped afterwards; or skip."""
    import psycopg  # optional extra: only the PostgreSQL tests need it

    base = need_postgres()
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        yield with_query(base, schema=schema, **params)
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless chromium driven by Playwright for Python, or skip (fail in CI)."""
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright for Python is not installed (pip install -e '.[dev]')")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
