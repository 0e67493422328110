"""Private Redis and PostgreSQL servers a test may stop and start at will.

The shared servers on 6379 and 5432 serve every other test running at the
same time, so outage tests never touch them: each starts its own instance on
a free loopback port in a temporary folder, and removes it afterwards.
Redis keeps an append-only file synced on every write, so a restart loses
nothing it acknowledged (an outage test must count on that).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.services import port_open, unavailable

REDIS_SERVER = os.environ.get("FOOTFALL_REDIS_SERVER", "/usr/bin/redis-server")
PG_BIN = Path(os.environ.get("FOOTFALL_PG_BIN", "/usr/lib/postgresql/15/bin"))
START_WAIT = 30.0  # seconds a server gets to come up


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, up: bool, what: str) -> None:
    deadline = time.monotonic() + START_WAIT
    while port_open("127.0.0.1", port, timeout=0.2) != up:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not {'start' if up else 'stop'} on port {port}")
        time.sleep(0.05)


class PrivateRedis:
    """A redis-server of this test's own, with an fsynced append-only file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        cmd = [
            REDIS_SERVER,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.folder),
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--save", "",
            "--logfile", str(self.folder / "redis.log"),
        ]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        _wait_port(self.port, True, "redis-server")

    def stop(self) -> None:
        """SIGTERM, as a service manager stops it; clients then get connection refused."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(START_WAIT)
        self.proc = None


@contextmanager
def private_redis(folder: Path) -> Iterator[PrivateRedis]:
    if not os.access(REDIS_SERVER, os.X_OK):
        unavailable(f"{REDIS_SERVER} is not installed (apt-get install redis-server)")
    server = PrivateRedis(folder)
    server.start()
    try:
        yield server
    finally:
        if server.proc is not None:
            server.proc.kill()
            server.proc.wait(START_WAIT)


class PrivatePostgres:
    """A PostgreSQL cluster of this test's own, run as the `postgres` user."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _pg(self, *args: str) -> None:
        cmd = ["runuser", "-u", "postgres", "--", *args]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        data = str(self.data)
        self._pg(str(PG_BIN / "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "-N")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.folder / "postgres.log")
        data = str(self.data)
        self._pg(str(PG_BIN / "pg_ctl"), "-D", data, "-o", options, "-l", log, "-w", "start")
        _wait_port(self.port, True, "PostgreSQL")

    def stop(self) -> None:
        """A fast shutdown: sessions are cut, new connections are refused."""
        self._pg(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        _wait_port(self.port, False, "PostgreSQL")


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    if os.geteuid() != 0 or not (PG_BIN / "pg_ctl").exists() or not shutil.which("runuser"):
        unavailable(f"a private PostgreSQL needs root, runuser and {PG_BIN}/pg_ctl")
    # Not under pytest's tmp_path: its folders are private to root, and the
    # server runs as `postgres`.
    folder = Path(tempfile.mkdtemp(prefix="footfall-pg-"))
    os.chmod(folder, 0o755)
    shutil.chown(folder, "postgres", "postgres")
    server = PrivatePostgres(folder)
    try:
        server.init()
        server.start()
        yield server
    finally:
        if port_open("127.0.0.1", server.port, timeout=0.2):
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)
