"""The three Flask hello-world apps of bench_middleware, and its in-process timer.

Runs in two environments: the project's venv (Flask 3: `bare`, `footfall`)
and the Flask-Track-Usage venv (Flask 2.2.5: `bare`, `ftu`), so it imports
footfall and flask_track_usage only inside the builders that need them.

    gunicorn 'middleware_apps:gunicorn_app()'      # BENCH_VARIANT, BENCH_DB_DIR
    python middleware_apps.py VARIANT DB_DIR SECONDS   # prints JSON timings
"""

from __future__ import annotations

import io
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from flask import Flask


class _NullSink:
    def write(self, events: Any) -> None:
        pass

    def close(self) -> None:
        pass


def _hello() -> Flask:
    app = Flask("hello")

    @app.route("/")
    def hello() -> str:
        return "Hello, World!"

    return app


def make(variant: str, db_dir: str, *, inprocess: bool = False) -> tuple[Any, Any]:
    """The app for `variant` and the footfall tracker it uses (or None)."""
    app = _hello()
    if variant == "bare":
        return app, None
    if variant == "footfall":
        from footfall import Tracker, connect
        from footfall.integrations.flask import TrackUsage
        from footfall.processors.defaults import default_processors

        store = connect(f"sqlite:///{db_dir}/footfall.db")
        if inprocess:
            # The timed loop measures the request path: the worker stays idle
            # (no size or timer wake-up) and is flushed, and timed, between rounds.
            tracker = Tracker(
                [store],
                default_processors(store),
                source="server",
                queue_size=5_000_000,
                batch_size=5_000_000,
                flush_interval=3600,
            )
            t = TrackUsage(app, tracker=tracker)
        else:
            t = TrackUsage(app, [store])
        return app, t.tracker
    if variant == "wsgi-null":
        # The plain WSGI middleware around the same app, null sink: the request
        # path alone, without Flask's hooks.
        from footfall import Tracker
        from footfall.integrations.wsgi import FootfallMiddleware

        tracker = Tracker(
            [_NullSink()],
            source="server",
            queue_size=5_000_000,
            batch_size=5_000_000,
            flush_interval=3600,
        )
        return FootfallMiddleware(app, tracker), tracker
    if variant in ("footfall-null", "footfall-redis"):
        # The same request path, with the worker's work moved out of the process
        # (a Redis Stream that `footfall worker` drains) or dropped (a null sink).
        from footfall import Tracker
        from footfall.integrations.flask import TrackUsage

        sink: Any
        if variant == "footfall-redis":
            from footfall.delivery.redis_sink import RedisSink

            sink = RedisSink(
                os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/0"),
                stream=os.environ.get("BENCH_STREAM", "footfall-bench"),
            )
        else:
            sink = _NullSink()
        t = TrackUsage(app, tracker=Tracker([sink], source="server"))
        return app, t.tracker
    if variant == "ftu":
        import sqlalchemy
        from flask_track_usage import TrackUsage as FTU
        from flask_track_usage.storage.sql import SQLStorage

        app.config["TRACK_USAGE_INCLUDE_OR_EXCLUDE_VIEWS"] = "exclude"
        engine = sqlalchemy.create_engine(f"sqlite:///{db_dir}/ftu.db")
        FTU(app, [SQLStorage(engine=engine)])
        return app, None
    raise ValueError(f"unknown variant {variant!r}")


def gunicorn_app() -> Any:
    """gunicorn entry point: the variant named by $BENCH_VARIANT."""
    app, _ = make(os.environ["BENCH_VARIANT"], os.environ["BENCH_DB_DIR"])
    return app


def _environ() -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.7",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_USER_AGENT": (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
        ),
        "HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9",
        "HTTP_REFERER": "https://www.google.com/",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def _start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
    return None


def _serve(app: Any, template: dict[str, Any], n: int) -> float:
    """Seconds for `n` requests, served as a WSGI server would (iterate, close)."""
    return _serve2(app, template, n)[0]


def _serve2(app: Any, template: dict[str, Any], n: int) -> tuple[float, float]:
    """Wall and CPU (this thread) seconds for `n` requests.

    CPU time is what the request thread itself spends; wall time also counts
    waiting (Flask-Track-Usage's commits, and the run queue on a busy box).
    """
    start, cpu = time.perf_counter(), time.thread_time()
    for _ in range(n):
        body = app(dict(template), _start_response)
        for _chunk in body:
            pass
        close = getattr(body, "close", None)
        if close is not None:
            close()
    return time.perf_counter() - start, time.thread_time() - cpu


def time_inprocess(variant: str, db_dir: str, seconds: float, rounds: int) -> dict[str, Any]:
    """Microseconds per request of `variant` and of the bare app, in alternating rounds.

    Both apps live in this process; rounds alternate (bare, variant, bare,
    ...) and the added cost is the median of the paired differences, so
    load from other processes that drifts during the run cancels out.
    """
    bare, _ = make("bare", db_dir)
    app, tracker = make(variant, db_dir, inprocess=True)
    template = _environ()
    for a in (bare, app):
        _serve(a, template, 20)  # warm caches, open the database
    if tracker is not None:
        tracker.flush(60)
    probe = max(_serve(app, template, 20) / 20, 1e-6)
    n = max(20, int(seconds / probe))
    bare_us, app_us, added, added_cpu, background = [], [], [], [], []
    for _ in range(rounds):
        b, b_cpu = (x / n * 1e6 for x in _serve2(bare, template, n))
        v, v_cpu = (x / n * 1e6 for x in _serve2(app, template, n))
        bare_us.append(b)
        app_us.append(v)
        added.append(v - b)
        added_cpu.append(v_cpu - b_cpu)
        if tracker is not None:
            start = time.perf_counter()
            tracker.flush(600)
            background.append((time.perf_counter() - start) / n * 1e6)
    result: dict[str, Any] = {
        "bare_us": statistics.median(bare_us),
        "us": statistics.median(app_us),
        "added_us": statistics.median(added),
        "added_cpu_us": statistics.median(added_cpu),
        "n": n,
        "rounds": rounds,
    }
    if tracker is not None:
        result["background_us"] = statistics.median(background)
        stats = tracker.stats()
        result["delivered"] = stats.delivered
        result["failed"] = stats.failed
        tracker.close()
    return result


if __name__ == "__main__":
    os.environ.setdefault("FOOTFALL_NO_SIGNALS", "1")
    if sys.argv[1] == "prepare":
        # Create the variant's tables once, so gunicorn's workers do not race
        # to create them (Flask-Track-Usage's SQLStorage would fail to boot).
        Path(sys.argv[3]).mkdir(parents=True, exist_ok=True)
        app, tracker = make(sys.argv[2], sys.argv[3])
        if tracker is not None:
            tracker.close()
        sys.exit(0)
    variant, db_dir, seconds, rounds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    Path(db_dir).mkdir(parents=True, exist_ok=True)
    print(json.dumps(time_inprocess(variant, db_dir, float(seconds), int(rounds))))
