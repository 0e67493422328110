"""Private Redis, PostgreSQL and ClickHouse servers that a fault may stop and restart.

The shared servers on 6379 and 5432 serve every other test running on this
machine, so an outage is only ever injected into an instance started here,
in its own temporary folder on a free loopback port. Redis and PostgreSQL
come from tests/private_servers.py; ClickHouse uses the configuration of
tests/clickhouse_server.py but runs in the foreground, so it can be stopped
and started again on the same data.

These raise `Unavailable` instead of skipping, so `bench/bench_faults.py`
can use them outside pytest; the tests turn it into `unavailable()`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.private_servers import PG_BIN, REDIS_SERVER, PrivatePostgres, PrivateRedis, free_port

__all__ = ["PrivateClickHouse", "Unavailable", "clickhouse", "free_port", "postgres", "redis"]

START_TIMEOUT = 60.0  # seconds for ClickHouse to answer after start
STOP_TIMEOUT = 30.0  # seconds for a clean shutdown before SIGKILL


class Unavailable(Exception):
    """A binary or permission a fault needs is missing (the test skips, or fails in CI)."""


@contextlib.contextmanager
def redis(folder: Path) -> Iterator[PrivateRedis]:
    """A private redis-server (fsynced append-only file), killed and removed afterwards."""
    if not os.access(REDIS_SERVER, os.X_OK):
        raise Unavailable(f"{REDIS_SERVER} is not installed (apt-get install redis-server)")
    folder.mkdir(parents=True, exist_ok=True)
    server = PrivateRedis(folder)
    server.start()
    try:
        yield server
    finally:
        if server.proc is not None:
            server.proc.kill()
            server.proc.wait(STOP_TIMEOUT)


@contextlib.contextmanager
def postgres() -> Iterator[PrivatePostgres]:
    """A private PostgreSQL cluster (run as `postgres`), stopped and removed afterwards."""
    if os.geteuid() != 0 or not (PG_BIN / "pg_ctl").exists() or not shutil.which("runuser"):
        raise Unavailable(f"a private PostgreSQL needs root, runuser and {PG_BIN}/pg_ctl")
    # Not under pytest's tmp_path: its folders are private to root, and the server runs as
    # `postgres`.
    folder = Path(tempfile.mkdtemp(prefix="footfall-fault-pg-"))
    folder.chmod(0o755)
    shutil.chown(folder, "postgres", "postgres")
    server = PrivatePostgres(folder)
    try:
        server.init()
        server.start()
        yield server
    finally:
        with contextlib.suppress(Exception):
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


class PrivateClickHouse:
    """`clickhouse-server` in the foreground, on free ports, with its data in `folder`."""

    def __init__(self, binary: str, folder: Path) -> None:
        from tests.clickhouse_server import write_config

        self.binary = binary
        self.folder = folder
        self.port = write_config(folder)
        self.url = f"clickhouse://default@127.0.0.1:{self.port}/footfall_faults"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        from tests.clickhouse_server import answers

        cmd = [self.binary, f"--config-file={self.folder / 'config.xml'}"]
        self.proc = subprocess.Popen(
            cmd, cwd=self.folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not answers(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"clickhouse-server did not start on port {self.port}")
            time.sleep(0.1)

    def stop(self, signum: int = signal.SIGTERM) -> None:
        """A clean shutdown (SIGTERM): clients' connections are closed, new ones refused."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signum)
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@contextlib.contextmanager
def clickhouse() -> Iterator[PrivateClickHouse]:
    """A private ClickHouse server, stopped and removed afterwards."""
    binary = shutil.which("clickhouse-server") or "/usr/sbin/clickhouse-server"
    if not os.access(binary, os.X_OK):
        raise Unavailable("clickhouse-server is not installed (apt-get install clickhouse-server)")
    folder = Path(tempfile.mkdtemp(prefix="footfall-fault-clickhouse-"))
    server = PrivateClickHouse(binary, folder)
    try:
        server.start()
        yield server
    finally:
        server.stop(signal.SIGKILL)  # its data is thrown away: no need to wait for a clean stop
        shutil.rmtree(folder, ignore_errors=True)
