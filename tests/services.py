"""Real servers for tests: find them, or skip (fail under FOOTFALL_REQUIRE_SERVICES=1)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

REQUIRE = os.environ.get("FOOTFALL_REQUIRE_SERVICES") == "1"

POSTGRES_URL = os.environ.get("FOOTFALL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("FOOTFALL_TEST_REDIS", "redis://127.0.0.1:6379/0")
RABBITMQ_URL = os.environ.get("FOOTFALL_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672//")

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
