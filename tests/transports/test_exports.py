"""The public surface: lazy exports, the CLI command, a Redis that is down."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

import footfall.delivery
from footfall.cli import main
from footfall.delivery.redis_sink import RedisSink
from footfall.tracker import Tracker
from transports.helpers import make_events
from transports.http_app import free_port


def test_sinks_are_exported_lazily() -> None:
    from footfall.delivery import CelerySink, HttpSink, RedisSink

    assert {CelerySink.__name__, HttpSink.__name__, RedisSink.__name__} == {
        "CelerySink",
        "HttpSink",
        "RedisSink",
    }
    with pytest.raises(AttributeError):
        footfall.delivery.NoSuchSink


def test_importing_footfall_does_not_import_redis_or_celery() -> None:
    code = (
        "import sys, footfall, footfall.delivery; "
        "print('redis' in sys.modules, 'celery' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_worker_command_is_registered() -> None:
    result = CliRunner().invoke(main, ["worker", "--help"])
    assert result.exit_code == 0
    for option in ("--redis", "--stream", "--db", "--group", "--consumer", "--batch"):
        assert option in result.output


def test_a_redis_that_is_down_fails_the_write_so_the_dispatcher_retries() -> None:
    import redis

    sink = RedisSink(f"redis://127.0.0.1:{free_port()}/0", stream="x")
    with pytest.raises(redis.ConnectionError):
        sink.write(make_events(1))
    failures: list[int] = []
    tracker = Tracker(
        [sink], flush_interval=0.05, on_failure=lambda n, evs: failures.append(len(evs))
    )
    tracker.emit("pageview", site="a.example")
    tracker.close(timeout=30)
    assert failures == [1] and tracker.stats().failed == 1
