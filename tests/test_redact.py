"""Passwords in store, Redis, broker and collector URLs never reach a repr or the terminal."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from footfall.cli import main
from footfall.redact import redact_url
from footfall.stores import connect
from services import POSTGRES_URL, need_postgres, unavailable

SECRET = "s3cret"
FOOTFALL = str(Path(sys.executable).with_name("footfall"))
REDIS_SERVER = "/usr/bin/redis-server"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql://postgres:s3cret@127.0.0.1:5432/test",
            "postgresql://postgres:***@127.0.0.1:5432/test",
        ),
        ("postgres://app:s3cret@db1:5432,db2:5433/ff", "postgres://app:***@db1:5432,db2:5433/ff"),
        ("redis://:s3cret@cache:6379/0", "redis://:***@cache:6379/0"),
        ("rediss://default:s3cret@cache/1", "rediss://default:***@cache/1"),
        ("amqp://guest:s3cret@127.0.0.1:5672//", "amqp://guest:***@127.0.0.1:5672//"),
        ("clickhouse://default:s3cret@ch:9000/ff?c=1", "clickhouse://default:***@ch:9000/ff?c=1"),
        ("https://s3cret@collector.example/api/event", "https://***@collector.example/api/event"),
        ("https://h/api/event?token=s3cret&site=a", "https://h/api/event?token=***&site=a"),
        ("postgresql://app@db/ff?password=s3cret&x=1", "postgresql://app@db/ff?password=***&x=1"),
        ("host=db user=app password=s3cret dbname=ff", "host=db user=app password=*** dbname=ff"),
        ("postgresql://app:s3@cr/et@db/ff", "postgresql://app:***@db/ff"),  # unescaped @ and /
    ],
)  # fmt: skip
def test_redact_url_hides_secrets_and_keeps_the_rest(url: str, shown: str) -> None:
    assert redact_url(url) == shown


@pytest.mark.parametrize(
    "url",
    ["sqlite:///./footfall.db", "sqlite://", "postgresql://postgres@127.0.0.1:5432/test", "", None],
)
def test_redact_url_leaves_urls_without_secrets_alone(url: str | None) -> None:
    assert redact_url(url) == (url or "")


# -- reprs ------------------------------------------------------------------------


def _with_password(url: str, schema: str) -> str:
    """`url` with `SECRET` as password (trust auth ignores it) and its own schema."""
    parts = urlsplit(url)
    user = parts.username or "postgres"
    netloc = f"{user}:{SECRET}@{parts.hostname}:{parts.port or 5432}"
    query = f"{parts.query}&" if parts.query else ""
    return parts._replace(netloc=netloc, query=f"{query}schema={schema}").geturl()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A working PostgreSQL URL with a password in it, in a schema dropped afterwards."""
    psycopg = pytest.importorskip("psycopg", reason="pip install footfall[postgres]")
    need_postgres()
    schema = f"ff_redact_{uuid.uuid4().hex[:10]}"
    yield _with_password(POSTGRES_URL, schema)
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_store_sink_and_tracker_reprs_hide_the_password(pg_url: str) -> None:
    from footfall.delivery.sinks import StoreSink
    from footfall.server.state import ServerState
    from footfall.tracker import Tracker

    store = connect(pg_url)  # a real connection: the URL works, password and all
    try:
        assert store.count() == 0
        sink = StoreSink(store)
        tracker = Tracker([sink], name="redact-test")
        state = ServerState(store=store, tracker=tracker, db_url=pg_url)
        for obj in (store, sink, tracker, state):
            text = repr(obj)
            assert SECRET not in text, text
        assert f"postgres:***@{urlsplit(pg_url).hostname}" in repr(store)
        tracker.close(timeout=5)
    finally:
        store.close()


def test_clickhouse_and_sqlite_store_reprs(tmp_path: Path) -> None:
    pytest.importorskip("clickhouse_driver", reason="pip install footfall[clickhouse]")
    from footfall.stores.clickhouse import ClickHouseStore

    ch = ClickHouseStore(f"clickhouse://default:{SECRET}@127.0.0.1:9000/ff")  # connects lazily
    assert SECRET not in repr(ch) and "default:***@127.0.0.1:9000/ff" in repr(ch)
    sqlite = connect(f"sqlite:///{tmp_path / 'ff.db'}")
    try:
        assert repr(sqlite) == f"SQLiteStore('sqlite:///{tmp_path / 'ff.db'}')"
    finally:
        sqlite.close()


def test_remote_sink_reprs_hide_passwords_and_tokens() -> None:
    from footfall.delivery.http_sink import HttpSink
    from footfall.delivery.redis_sink import RedisSink

    http = HttpSink(f"https://ci:{SECRET}@collector.example/api/event?token={SECRET}", "tok")
    redis_sink = RedisSink(f"redis://:{SECRET}@127.0.0.1:6379/0")  # connects lazily
    try:
        for sink in (http, redis_sink):
            assert SECRET not in repr(sink), repr(sink)
        assert "collector.example" in repr(http) and "127.0.0.1:6379" in repr(redis_sink)
    finally:
        redis_sink.close()
        http.close()


def test_celery_sink_repr_hides_the_broker_password() -> None:
    celery = pytest.importorskip("celery", reason="pip install footfall[celery]")
    from footfall.delivery.celery_sink import CelerySink

    app = celery.Celery("redact-test", broker=f"amqp://guest:{SECRET}@127.0.0.1:5672//")
    text = repr(CelerySink(app))
    assert SECRET not in text and "guest:***@127.0.0.1:5672" in text


# -- the command line -------------------------------------------------------------


def test_cli_demo_prints_the_store_without_its_password(pg_url: str) -> None:
    result = CliRunner().invoke(
        main, ["demo", "--db", pg_url, "--days", "1", "--scale", "0.02", "--quiet"]
    )
    assert result.exit_code == 0, result.output
    assert "stored" in result.output and SECRET not in result.output
    assert "postgres:***@" in result.output


def test_cli_error_for_an_unknown_scheme_hides_the_password() -> None:
    result = CliRunner().invoke(main, ["migrate", "--db", f"mysql://app:{SECRET}@db/ff"])
    assert result.exit_code != 0
    assert "unknown store URL scheme" in str(result.exception)
    assert SECRET not in str(result.exception) and SECRET not in result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


@pytest.fixture
def redis_with_password(tmp_path: Path) -> Iterator[str]:
    """A private redis-server that requires `SECRET` (the shared one has no password)."""
    if not os.access(REDIS_SERVER, os.X_OK):
        unavailable(f"{REDIS_SERVER} is not installed (apt-get install redis-server)")
    port = _free_port()
    cmd = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
           "--appendonly", "no", "--dir", str(tmp_path), "--requirepass", SECRET]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        _wait_port(port, time.monotonic() + 30)
        yield f"redis://:{SECRET}@127.0.0.1:{port}/0"
    finally:
        proc.kill()
        proc.wait(30)


def test_cli_worker_output_hides_both_passwords(pg_url: str, redis_with_password: str) -> None:
    if not shutil.which(FOOTFALL):
        pytest.skip(f"{FOOTFALL} is not installed (pip install -e .)")
    done = subprocess.run(
        [FOOTFALL, "worker", "--redis", redis_with_password, "--db", pg_url, "--burst"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "FOOTFALL_NO_SIGNALS": "1"},
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "footfall: store postgresql://postgres:***@" in output
    assert SECRET not in output


def test_cli_serve_banner_hides_the_password(pg_url: str) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [FOOTFALL, "serve", "--db", pg_url, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        _wait_port(port, time.monotonic() + 60)
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=60)
    assert "footfall serving postgresql://postgres:***@" in output, output
    assert SECRET not in output
