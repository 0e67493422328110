"""A throwaway two-shard ClickHouse cluster for the tests, started once per process.

Two `clickhouse-server` processes from Debian's package, each on its own
free ports in its own temporary folder, both naming the two of them as the
shards of the cluster `CLUSTER` in `remote_servers`. The shards are
unreplicated, so no ZooKeeper/Keeper is needed: footfall applies its DDL on
each shard itself (footfall.stores.ch_cluster). Stopped by pid at exit.

`$FOOTFALL_TEST_CLICKHOUSE_CLUSTER` (a `clickhouse://...?cluster=NAME` URL)
uses a cluster you run instead. Returns None when none can be had; callers
skip through tests.services.unavailable() (which fails under CI).
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from tests.clickhouse_server import STARTUP_TIMEOUT_S, _free_port, _stop, answers, write_config

__all__ = ["CLUSTER", "cluster_url", "shard_ports", "why_unavailable"]

CLUSTER = "footfall_test"
_lock = threading.Lock()
_state: dict[str, object] = {}

_SHARD = """      <shard><replica><host>127.0.0.1</host><port>{port}</port></replica></shard>
"""


def remote_servers(ports: list[int]) -> str:
    """The `remote_servers` section naming one unreplicated shard per port."""
    shards = "".join(_SHARD.format(port=p) for p in ports)
    return f"  <remote_servers>\n    <{CLUSTER}>\n{shards}    </{CLUSTER}>\n  </remote_servers>\n"


def _start() -> str | None:
    binary = shutil.which("clickhouse-server") or (
        "/usr/sbin/clickhouse-server" if os.path.exists("/usr/sbin/clickhouse-server") else None
    )
    if binary is None:
        _state["reason"] = "clickhouse-server is not installed (apt-get install clickhouse-server)"
        return None
    ports = [_free_port(), _free_port()]
    started: list[tuple[int, Path]] = []
    for port in ports:
        workdir = Path(tempfile.mkdtemp(prefix="footfall-clickhouse-shard-"))
        write_config(workdir, tcp=port, extra=remote_servers(ports))
        pidfile = workdir / "server.pid"
        subprocess.run(
            [
                binary,
                f"--config-file={workdir / 'config.xml'}",
                "--daemon",
                f"--pid-file={pidfile}",
            ],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=30,
            cwd=workdir,
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not answers(port) and time.monotonic() < deadline:
            time.sleep(0.2)
        text = pidfile.read_text().strip() if pidfile.exists() else ""
        pid = int(text) if text.isdigit() else 0
        started.append((pid, workdir))
        if not answers(port):
            log = workdir / "server.err.log"
            tail = log.read_text()[-500:] if log.exists() else "(no log)"
            _state["reason"] = f"a cluster shard did not answer in {STARTUP_TIMEOUT_S}s: {tail}"
            for p, w in started:
                _stop(p, w)
            return None
    for pid, workdir in started:
        atexit.register(_stop, pid, workdir)
    _state["ports"] = ports
    return f"clickhouse://default@127.0.0.1:{ports[0]}/footfall?cluster={CLUSTER}"


def cluster_url() -> str | None:
    """The URL of a running two-shard test cluster (started on first call), or None."""
    with _lock:
        if "url" not in _state:
            env = os.environ.get("FOOTFALL_TEST_CLICKHOUSE_CLUSTER")
            _state["url"] = env or _start()
        url = _state["url"]
        return url if isinstance(url, str) else None


def shard_ports() -> list[int]:
    """The native ports of the shards this process started (empty for an outside cluster)."""
    ports = _state.get("ports")
    return list(ports) if isinstance(ports, list) else []


def why_unavailable() -> str:
    """Why cluster_url() returned None."""
    return str(_state.get("reason", "no ClickHouse cluster"))
