"""Real servers for tests: find them, or skip (fail under FOOTFALL_REQUIRE_SERVICES=1)."""

from __future__ import annotations

import os
import socket

import pytest

REQUIRE = os.environ.get("FOOTFALL_REQUIRE_SERVICES") == "1"

POSTGRES_URL = os.environ.get("FOOTFALL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("FOOTFALL_TEST_REDIS", "redis://127.0.0.1:6379/0")
RABBITMQ_URL = os.environ.get("FOOTFALL_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672//")


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
