"""A small real collector for HttpSink tests: Starlette + uvicorn + a SQLite store.

It speaks the contract of `POST /api/event` (bearer token, `{"events": [...]}`,
gzip bodies) and can be told to answer the next requests with given statuses,
which the real collector cannot be made to do on demand.
"""

from __future__ import annotations

import gzip
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import msgspec
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from footfall.event import Event
from footfall.stores import Store

MAX_BODY = 10 * 1024 * 1024


class Body(msgspec.Struct):
    events: list[Event]


_decoder = msgspec.json.Decoder(Body)


@dataclass
class Collector:
    store: Store
    token: str
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # next answers
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def post_event(self, request: Request) -> JSONResponse:
        raw = await request.body()
        with self.lock:
            self.requests.append(
                {"encoding": request.headers.get("content-encoding"), "at": time.monotonic()}
            )
            if self.script:
                status, headers = self.script.pop(0)
                return JSONResponse({"error": "scripted"}, status, headers)
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return JSONResponse({"error": "bad token"}, 401)
        if request.headers.get("content-encoding") == "gzip":
            raw = gzip.decompress(raw)
        if len(raw) > MAX_BODY:
            return JSONResponse({"error": "too large"}, 413)
        try:
            body = _decoder.decode(raw)
        except msgspec.DecodeError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        self.store.write(body.events)
        return JSONResponse({"accepted": len(body.events)}, 202)


@dataclass
class Running:
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(collector: Collector, port: int) -> Running:
    """Serve `collector` on 127.0.0.1:`port` in a thread; return once it accepts."""
    app = Starlette(routes=[Route("/api/event", collector.post_event, methods=["POST"])])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("test collector did not start")
        time.sleep(0.02)
    return Running(f"http://127.0.0.1:{port}", server, thread)
