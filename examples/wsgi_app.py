"""A plain WSGI app tracked by footfall's WSGI middleware.

    python examples/wsgi_app.py    # on port 8001, or $PORT

Events go to `$FOOTFALL_DB` (default `sqlite:///./footfall.db`).
`create_app(store_url)` is what the tests use.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

from footfall.integrations.wsgi import FootfallMiddleware
from footfall.stores import default_url


def hello(environ: dict[str, Any], start_response: Any) -> Any:
    """A tiny app: a page, a JSON endpoint, a streamed body and an error."""
    path = environ.get("PATH_INFO", "/")
    if path == "/":
        body = b"<!doctype html><title>Hello</title><h1>Hello from WSGI</h1>"
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [body]
    if path == "/api/ping":
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"pong": True}).encode()]
    if path == "/stream":
        start_response("200 OK", [("Content-Type", "text/plain")])

        def chunks() -> Iterator[bytes]:
            for i in range(5):
                yield f"chunk {i}\n".encode()

        return chunks()
    if path == "/boom":
        raise RuntimeError("boom")
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found"]


def create_app(store_url: str | None = None, **options: Any) -> FootfallMiddleware:
    """The app wrapped in the middleware, writing to `store_url`."""
    return FootfallMiddleware(
        hello, sinks=[store_url or default_url()], site="wsgi.example", **options
    )


if __name__ == "__main__":
    from wsgiref.simple_server import make_server

    port = int(os.environ.get("PORT", "8001"))
    print(f"http://127.0.0.1:{port}/")
    make_server("127.0.0.1", port, create_app()).serve_forever()
