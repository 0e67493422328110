"""A real HTTP receiver for the alert tests: http.server on a free loopback port.

It keeps the JSON body of every POST, and answers with the statuses a test
scripts (`answers`, one per request, then 200), so a test sees what a Slack
or Mattermost incoming webhook would have received, and how often.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Receiver:
    """The running receiver: its address, scripted answers and what it got."""

    port: int = 0
    answers: list[int] = field(default_factory=list)  # statuses for the next requests
    location: str = ""  # the Location of a 3xx answer
    delay: float = 0.0  # seconds to wait before answering
    bodies: list[Any] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/hooks/T000/B000/secret") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Any]:
        """The bodies once `count` have arrived (or what there is at the timeout)."""
        deadline = time.monotonic() + timeout
        while len(self.bodies) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.bodies)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            with receiver.lock:
                status = receiver.answers.pop(0) if receiver.answers else 200
                receiver.paths.append(self.path)
                receiver.headers.append(dict(self.headers.items()))
                if status == 200:
                    receiver.bodies.append(json.loads(raw))
            if receiver.delay:
                time.sleep(receiver.delay)
            try:
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender timed out and left, as the timeout test makes it

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep the test output clean

    return Handler


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    """Serve until the block ends; every 200-answered body is in `bodies`."""
    receiver = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
