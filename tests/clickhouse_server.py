"""A throwaway ClickHouse server for the tests (and benchmarks), started once per process.

Order of preference:
1. `$FOOTFALL_TEST_CLICKHOUSE` (a `clickhouse://...` URL of a server you run);
2. Debian's `clickhouse-server` binary, started here as a daemon with a
   minimal config in a temporary directory on two free ports, and stopped
   (by its pid) when the process exits.

Works as root on a fresh machine: every path it writes is in its own
temporary directory, and it needs neither the `clickhouse` user nor
/var/lib/clickhouse. Returns None when no server can be had; callers skip
through tests.services.unavailable() (which fails under CI).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

STARTUP_TIMEOUT_S = 60.0
_lock = threading.Lock()
_state: dict[str, object] = {}

_CONFIG = """<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{d}/server.log</log>
    <errorlog>{d}/server.err.log</errorlog><size>10M</size><count>1</count></logger>
  <tcp_port>{tcp}</tcp_port>
  <http_port>{http}</http_port>
  <listen_host>127.0.0.1</listen_host>
  <path>{d}/data/</path>
  <tmp_path>{d}/data/tmp/</tmp_path>
  <user_files_path>{d}/data/user_files/</user_files_path>
  <format_schema_path>{d}/data/format_schemas/</format_schema_path>
  <users_config>{d}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
{extra}</yandex>
"""

_USERS = """<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users><default><password></password>
    <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
  </interval></default></quotas>
</yandex>
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ready(port: int) -> bool:
    try:
        from clickhouse_driver import Client
    except ImportError:
        return False
    client = Client("127.0.0.1", port=port, connect_timeout=1, send_receive_timeout=5)
    try:
        return bool(client.execute("SELECT 1") == [(1,)])
    except Exception:
        return False
    finally:
        client.disconnect()


def answers(port: int) -> bool:
    """Whether a ClickHouse server answers `SELECT 1` on this native-protocol port."""
    return _ready(port)


def write_config(workdir: Path, tcp: int | None = None, extra: str = "") -> int:
    """Write a server config for `workdir` on free ports (or native port `tcp`),
    with `extra` XML inside <yandex> (a `remote_servers` section); return the native port."""
    tcp, http = tcp or _free_port(), _free_port()
    config = _CONFIG.format(d=workdir, tcp=tcp, http=http, extra=extra)
    (workdir / "config.xml").write_text(config)
    (workdir / "users.xml").write_text(_USERS.format(d=workdir))
    return tcp


def _stop(pid: int, workdir: Path) -> None:
    if pid <= 1:  # never signal a process group or init
        shutil.rmtree(workdir, ignore_errors=True)
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
    shutil.rmtree(workdir, ignore_errors=True)


def _start() -> str | None:
    binary = shutil.which("clickhouse-server") or (
        "/usr/sbin/clickhouse-server" if os.path.exists("/usr/sbin/clickhouse-server") else None
    )
    if binary is None:
        _state["reason"] = "clickhouse-server is not installed (apt-get install clickhouse-server)"
        return None
    workdir = Path(tempfile.mkdtemp(prefix="footfall-clickhouse-"))
    tcp = write_config(workdir)
    pidfile = workdir / "server.pid"
    subprocess.run(
        [binary, f"--config-file={workdir / 'config.xml'}", "--daemon", f"--pid-file={pidfile}"],
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=30,
        cwd=workdir,
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if _ready(tcp):
            pid = int(pidfile.read_text().strip())
            atexit.register(_stop, pid, workdir)
            return f"clickhouse://default@127.0.0.1:{tcp}/default"
        time.sleep(0.2)
    log = workdir / "server.err.log"
    tail = log.read_text()[-500:] if log.exists() else "(no log)"
    _state["reason"] = f"clickhouse-server did not answer within {STARTUP_TIMEOUT_S}s: {tail}"
    text = pidfile.read_text().strip() if pidfile.exists() else ""
    _stop(int(text) if text.isdigit() else 0, workdir)
    return None


def clickhouse_url() -> str | None:
    """The URL of a running test server (started on first call), or None."""
    with _lock:
        if "url" not in _state:
            env = os.environ.get("FOOTFALL_TEST_CLICKHOUSE")
            _state["url"] = env or _start()
        url = _state["url"]
        return url if isinstance(url, str) else None


def why_unavailable() -> str:
    """Why clickhouse_url() returned None."""
    return str(_state.get("reason", "no ClickHouse server"))
