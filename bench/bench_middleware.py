"""Web middleware cost: a Flask hello-world bare, with footfall, and with Flask-Track-Usage.

Two measurements, same run, same machine:

1. In-process: a WSGI server's work (call the app, iterate, close) in a
   loop, no sockets. Each variant runs beside a bare app in the same process
   and rounds alternate, so the added microseconds per request are the
   median of paired differences. For footfall the worker stays idle during a
   round (the request path is what is timed) and the flush after it is timed
   too, reported as background cost per event (building the event from the
   request's raw values, processors, SQLite insert).
2. Under load: gunicorn, 2 sync workers, and `wrk --latency` on loopback,
   one variant at a time, repeated and interleaved; medians of requests/s,
   p50 and p99.

Flask-Track-Usage 2.0 only installs beside Flask 2.2.5, Werkzeug 2.3.8,
SQLAlchemy 1.4.54 and six, so its parts run in their own venv, created by
this benchmark under .bench-venvs/ (git-ignored), as subprocesses; its bare
baseline runs there too, on the same Flask it runs on.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FTU_VENV = ROOT / ".bench-venvs" / "ftu"
FTU_PINS = [
    "flask-track-usage==2.0.0",
    "flask==2.2.5",
    "werkzeug==2.3.8",
    "sqlalchemy==1.4.54",
    "six",
    "gunicorn",
]
WRK = "/usr/bin/wrk"


def _log(msg: str) -> None:
    print(f"#   {msg}", file=sys.stderr, flush=True)


def _ftu_python() -> Path | None:
    """The Flask-Track-Usage venv's python, created on first use; None if it cannot be."""
    python = FTU_VENV / "bin" / "python"
    marker = FTU_VENV / ".installed"
    if python.exists() and marker.exists():
        return python
    _log(f"creating {FTU_VENV} for Flask-Track-Usage 2.0 ...")
    try:
        subprocess.run([sys.executable, "-m", "venv", str(FTU_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", *FTU_PINS],
            check=True,
            timeout=600,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        _log(f"Flask-Track-Usage venv unavailable: {exc}")
        return None
    marker.touch()
    return python


def _inprocess(python: Path, variant: str, db_dir: Path, seconds: float, rounds: int) -> dict:
    out = subprocess.run(
        [
            str(python),
            str(HERE / "middleware_apps.py"),
            variant,
            str(db_dir),
            str(seconds),
            str(rounds),
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=HERE,
        timeout=900,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.1)
    return False


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if not m:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def _parse_wrk(out: str) -> dict[str, float]:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "rps": rps,
        "p50": p50,
        "p99": p99,
        "non2xx": float(errors.group(1)) if errors else 0.0,
        "requests": _requests(out),
    }


def _requests(out: str) -> float:
    total = re.search(r"(\d+) requests in", out)
    return float(total.group(1)) if total else 0.0


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _children(pid: int) -> list[int]:
    """The pids of `pid`'s children (gunicorn's workers), Linux only."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(p) for p in task.read_text().split()]
    return found


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by `pids` (0 for any that are gone)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / _TICK


def _gunicorn(python: Path, variant: str, db_dir: Path, seconds: int) -> dict[str, float]:
    """One wrk run against gunicorn (2 sync workers) serving `variant`."""
    port = _free_port()
    env = {
        **os.environ,
        "BENCH_VARIANT": variant,
        "BENCH_DB_DIR": str(db_dir),
        "BENCH_REDIS": REDIS,
        "BENCH_STREAM": STREAM,
        "PYTHONWARNINGS": "ignore",
    }
    env.pop("FOOTFALL_NO_SIGNALS", None)  # let footfall flush on gunicorn's SIGTERM
    subprocess.run(
        [str(python), str(HERE / "middleware_apps.py"), "prepare", variant, str(db_dir)],
        check=True,
        cwd=HERE,
        env=env,
        timeout=120,
    )
    server = subprocess.Popen(
        [
            str(python),
            "-m",
            "gunicorn",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--chdir",
            str(HERE),
            "middleware_apps:gunicorn_app()",
        ],
        env=env,
        start_new_session=True,
    )
    try:
        if not _wait_port(port, 30):
            raise RuntimeError(f"gunicorn ({variant}) did not start")
        url = f"http://127.0.0.1:{port}/"
        # 3 s of warm-up: each worker's first batch loads the user-agent rules
        # (about a second of CPU on the worker thread); that is start-up, not steady state.
        warm = subprocess.run(
            [WRK, "-t2", "-c8", "-d3s", url], check=True, capture_output=True, text=True
        ).stdout
        # CPU the workers spend per request, from /proc: unlike requests/s it
        # hardly moves with what else the machine is doing (all of it counts:
        # request path, footfall's worker thread, the store).
        workers = _children(server.pid)
        cpu_before = _cpu_seconds(workers)
        out = subprocess.run(
            [WRK, "-t2", "-c8", f"-d{seconds}s", "--latency", url],
            check=True,
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        ).stdout
        cpu = _cpu_seconds(workers) - cpu_before
        result = _parse_wrk(out)
        timed = _requests(out)
        result["cpu_us"] = cpu / timed * 1e6 if timed and workers else 0.0
        result["requests"] += _requests(warm)  # every request that should be stored
        return result
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


REDIS = os.environ.get("FOOTFALL_TEST_REDIS", "redis://127.0.0.1:6379/0")
STREAM = f"footfall-bench-{os.getpid()}"


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


def _redis_events(drop: bool) -> int:
    """Events the redis variant appended to its bench stream (dropped afterwards)."""
    import redis

    client = redis.Redis.from_url(REDIS)
    try:
        total = sum(int(f[b"n"]) for _, f in client.xrange(STREAM))
        if drop:
            client.delete(STREAM)
        return total
    finally:
        client.close()


def _stored(db_dir: Path) -> int:
    from footfall import connect

    store = connect(f"sqlite:///{db_dir}/footfall.db")
    try:
        return store.count()
    finally:
        store.close()


def run(quick: bool) -> list[dict[str, Any]]:
    seconds = 0.3 if quick else 1.0  # per in-process round
    rounds = 5 if quick else 9
    wrk_seconds = 3 if quick else 10
    # FOOTFALL_BENCH_REPEATS=N: more interleaved gunicorn runs for a steadier median.
    repeats = int(os.environ.get("FOOTFALL_BENCH_REPEATS", "0")) or (1 if quick else 3)
    ftu = _ftu_python()
    project = Path(sys.executable)
    rows: list[dict[str, Any]] = []
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        _log("in-process: bare vs footfall ...")
        ff = _inprocess(project, "footfall", base / "inproc-ff", seconds, rounds)
        _log("in-process: bare vs WSGI middleware (null sink) ...")
        wsgi = _inprocess(project, "wsgi-null", base / "inproc-wsgi", seconds, rounds)
        ftu_res = None
        if ftu is not None:
            _log("in-process: bare vs Flask-Track-Usage ...")
            ftu_res = _inprocess(ftu, "ftu", base / "inproc-ftu", seconds, max(3, rounds // 3))
        rows.append(
            {
                "benchmark": "Flask hello world, added per request (in-process)",
                "footfall": ff["added_us"],
                "peer": "Flask-Track-Usage 2.0 SQLStorage",
                "peer_value": ftu_res["added_us"] if ftu_res else None,
                "ratio": f"{ftu_res['added_us'] / ff['added_us']:,.0f}x less"
                if ftu_res and ff["added_us"] > 0
                else "",
                "unit": "us/request",
                "goal": "<= 15",
            }
        )
        rows.append(
            {
                "benchmark": "  same, CPU time of the request thread",
                "footfall": ff["added_cpu_us"],
                "peer": "Flask-Track-Usage 2.0 SQLStorage",
                "peer_value": ftu_res["added_cpu_us"] if ftu_res else None,
                "unit": "us/request",
                "goal": "<= 15",
            }
        )
        rows.append(
            {
                "benchmark": "  WSGI middleware, null sink: wall / CPU",
                "footfall": f"{wsgi['added_us']:.1f} / {wsgi['added_cpu_us']:.1f}",
                "unit": "us/request",
                "goal": "(request path alone)",
            }
        )
        rows.append(
            {
                "benchmark": "  bare Flask request, same loop (reference)",
                "footfall": ff["bare_us"],
                "peer": "bare on Flask 2.2.5",
                "peer_value": ftu_res["bare_us"] if ftu_res else None,
                "unit": "us/request",
                "goal": "",
            }
        )
        rows.append(
            {
                "benchmark": "  footfall worker, per event (build event + processors + SQLite)",
                "footfall": ff["background_us"],
                "unit": "us/event",
                "goal": "(background thread)",
            }
        )
        # Under gunicorn + wrk: variants interleaved, `repeats` times.
        runs: dict[str, list[dict[str, float]]] = {}
        plan = [("bare", project, "bare"), ("footfall", project, "footfall")]
        plan.append(("footfall-null", project, "footfall-null"))
        if _redis_up():
            plan.append(("footfall-redis", project, "footfall-redis"))
        if ftu is not None:
            plan += [("bare-2.2.5", ftu, "bare"), ("ftu", ftu, "ftu")]
        for r in range(repeats):
            for label, python, variant in plan:
                _log(f"gunicorn + wrk: {label} (run {r + 1}/{repeats}) ...")
                db_dir = base / f"gunicorn-{label}-{r}"
                db_dir.mkdir()
                res = _gunicorn(python, variant, db_dir, wrk_seconds)
                if label == "footfall":
                    res["stored"] = float(_stored(db_dir))
                elif label == "footfall-redis":
                    res["stored"] = float(_redis_events(drop=True))
                runs.setdefault(label, []).append(res)
    med = {
        label: {k: statistics.median(x[k] for x in results) for k in results[0]}
        for label, results in runs.items()
    }
    bare, ff_g = med["bare"], med["footfall"]
    ftu_g, bare2 = med.get("ftu"), med.get("bare-2.2.5")
    rows.append(
        {
            "benchmark": "gunicorn 2 workers + wrk: requests/s, footfall vs bare",
            "footfall": ff_g["rps"],
            "peer": "bare Flask 3",
            "peer_value": bare["rps"],
            "ratio": f"{ff_g['rps'] / bare['rps']:.0%}",
            "unit": "req/s",
            "goal": ">= 95 % of bare",
        }
    )
    if ftu_g and bare2:
        rows.append(
            {
                "benchmark": "gunicorn 2 workers + wrk: Flask-Track-Usage vs its bare",
                "footfall": ftu_g["rps"],
                "peer": "bare Flask 2.2.5",
                "peer_value": bare2["rps"],
                "ratio": f"{ftu_g['rps'] / bare2['rps']:.0%}",
                "unit": "req/s",
                "goal": "(peer: about 8 %)",
            }
        )
    if bare.get("cpu_us"):
        rows.append(
            {
                "benchmark": "  gunicorn workers' CPU per request, footfall vs bare",
                "footfall": ff_g["cpu_us"],
                "peer": "bare Flask 3",
                "peer_value": bare["cpu_us"],
                "ratio": f"{bare['cpu_us'] / ff_g['cpu_us']:.0%}" if ff_g["cpu_us"] else "",
                "unit": "us CPU/request",
                "goal": "ratio = throughput if CPU-bound",
            }
        )
        for label, what in (
            ("footfall-null", "request path only (null sink)"),
            ("footfall-redis", "worker ships to a Redis Stream"),
        ):
            if label in med and med[label].get("cpu_us"):
                c = med[label]["cpu_us"]
                rows.append(
                    {
                        "benchmark": f"  same, footfall {what}",
                        "footfall": c,
                        "peer": "bare Flask 3",
                        "peer_value": bare["cpu_us"],
                        "ratio": f"{bare['cpu_us'] / c:.0%}",
                        "unit": "us CPU/request",
                        "goal": "",
                    }
                )
    for label, what in (
        ("footfall-null", "request path only (null sink)"),
        ("footfall-redis", "worker ships to a Redis Stream"),
    ):
        if label in med:
            rows.append(
                {
                    "benchmark": f"  footfall, {what}",
                    "footfall": med[label]["rps"],
                    "peer": "bare Flask 3",
                    "peer_value": bare["rps"],
                    "ratio": f"{med[label]['rps'] / bare['rps']:.0%}",
                    "unit": "req/s",
                    "goal": ">= 95 % of bare",
                }
            )
    for label, name in (
        ("bare", "bare Flask 3"),
        ("footfall", "footfall"),
        ("footfall-null", "footfall, null sink"),
        ("footfall-redis", "footfall, Redis Stream"),
        ("bare-2.2.5", "bare Flask 2.2.5"),
        ("ftu", "Flask-Track-Usage"),
    ):
        if label in med:
            m = med[label]
            rows.append(
                {
                    "benchmark": f"  latency p50 / p99, {name}",
                    "footfall": f"{m['p50']:.2f} / {m['p99']:.2f}",
                    "unit": "ms",
                    "goal": f"non-2xx {m['non2xx']:.0f}"
                    + (
                        f", stored {m['stored']:.0f} of {m['requests']:.0f} requests"
                        if "stored" in m
                        else ""
                    ),
                }
            )
    rows.append(
        {
            "benchmark": f"  (load average at start: {load:.1f} on {os.cpu_count()} cores)",
        }
    )
    return rows


if __name__ == "__main__":
    for row in run("--quick" in sys.argv):
        print(row)
