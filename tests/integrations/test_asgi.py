"""The ASGI middleware, driven through a FastAPI example and Starlette's test client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .helpers import read_events

pytest.importorskip("fastapi")
testclient = pytest.importorskip("starlette.testclient")

from footfall.delivery.sinks import CaptureSink  # noqa: E402
from footfall.integrations.asgi import FootfallMiddleware  # noqa: E402
from footfall.tracker import Tracker  # noqa: E402


def _tracker_of(app: Any) -> Tracker:
    """The footfall middleware's tracker inside a built Starlette app."""
    stack = app.middleware_stack or app.build_middleware_stack()
    app.middleware_stack = stack
    node = stack
    while not isinstance(node, FootfallMiddleware):
        node = node.app
    return node.tracker


@pytest.fixture
def make(examples_path: Path, db_url: str) -> Iterator[Any]:
    import fastapi_app

    made: list[Tracker] = []

    def _make(**options: Any) -> tuple[Any, Tracker]:
        app = fastapi_app.create_app(db_url, **options)
        client = testclient.TestClient(app, raise_server_exceptions=True)
        tracker = _tracker_of(app)
        made.append(tracker)
        return client, tracker

    yield _make
    for tracker in made:
        tracker.close()


def test_events_reach_the_store(make: Any, db_url: str) -> None:
    client, tracker = make()
    page = client.get("/", headers={"Referer": "https://www.google.com/", "Accept-Language": "fr"})
    assert page.status_code == 200
    client.get("/items/7", headers={"Authorization": "Bearer alice"})
    client.get("/missing")
    events = read_events(tracker, db_url)
    assert [(e.name, e.path, e.status) for e in events] == [
        ("pageview", "/", 200),
        ("request", "/items/7", 200),
        ("request", "/missing", 404),
    ]
    first = events[0]
    assert first.url == "http://testserver/"
    assert first.site == "fastapi.example"
    assert first.bytes == len(page.content)
    assert first.referrer == "https://www.google.com/"
    assert first.source == "server"
    assert events[1].user_id == "alice"
    assert events[0].user_id == ""


def test_streaming_response_measured_at_its_end(make: Any, db_url: str) -> None:
    client, tracker = make()
    resp = client.get("/stream")
    assert resp.text.count("chunk") == 5
    (event,) = read_events(tracker, db_url)
    assert (event.status, event.bytes) == (200, len(resp.content))


def test_exception_recorded_as_500_and_propagates(make: Any, db_url: str) -> None:
    client, tracker = make()
    with pytest.raises(RuntimeError, match="boom"):
        client.get("/boom")
    (event,) = read_events(tracker, db_url)
    assert event.status == 500


def test_exception_in_bare_asgi_app_propagates_unchanged() -> None:
    sink = CaptureSink()
    tracker = Tracker([sink])
    error = LookupError("mine")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise error

    client = testclient.TestClient(FootfallMiddleware(app, tracker))
    with pytest.raises(LookupError) as info:
        client.get("/x")
    assert info.value is error
    tracker.flush(10)
    assert [(e.path, e.status) for e in sink.events] == [("/x", 500)]
    tracker.close()


def test_spoofed_forwarded_for_cannot_set_the_ip() -> None:
    sink = CaptureSink()
    tracker = Tracker([sink])

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    direct = testclient.TestClient(FootfallMiddleware(app, tracker), client=("198.51.100.1", 1))
    proxied = testclient.TestClient(
        FootfallMiddleware(app, tracker, trusted_proxies=1), client=("10.0.0.1", 1)
    )
    direct.get("/", headers={"X-Forwarded-For": "6.6.6.6"})
    proxied.get(
        "/", headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.5", "Forwarded": "for=6.6.6.6"}
    )
    tracker.flush(10)
    assert [e.ip for e in sink.events] == ["198.51.100.1", "203.0.113.5"]
    tracker.close()


def test_include_exclude_static(make: Any, db_url: str) -> None:
    client, tracker = make(exclude=["/items/*"])
    for path in ("/", "/items/1", "/static/site.css", "/favicon.ico"):
        client.get(path)
    assert [e.path for e in read_events(tracker, db_url)] == ["/"]


def test_cookie_mode(make: Any, db_url: str) -> None:
    client, tracker = make(cookie=True)
    first = client.get("/")
    cookie = first.headers["set-cookie"]
    assert cookie.startswith("footfall_visit=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    key = cookie.split(";")[0].split("=", 1)[1]
    second = client.get("/items/1")
    assert "set-cookie" not in second.headers
    secure = testclient.TestClient(client.app, base_url="https://testserver")
    assert "; Secure" in secure.get("/").headers["set-cookie"]
    events = read_events(tracker, db_url)
    assert [e.visitor_id for e in events[:2]] == [key, key]
    assert events[2].visitor_id not in ("", key)


def test_dnt_honoured_when_configured(make: Any, db_url: str) -> None:
    client, tracker = make(honor_dnt=True)
    client.get("/", headers={"DNT": "1"})
    client.get("/", headers={"Sec-GPC": "1"})
    client.get("/items/2")
    assert [e.path for e in read_events(tracker, db_url)] == ["/items/2"]


def test_lifespan_and_websocket_pass_through() -> None:
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket

    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text(await ws.receive_text())
        await ws.close()

    sink = CaptureSink()
    tracker = Tracker([sink])
    app = Starlette(routes=[WebSocketRoute("/ws", echo)])
    with testclient.TestClient(FootfallMiddleware(app, tracker)) as client:
        with client.websocket_connect("/ws") as ws:
            ws.send_text("hi")
            assert ws.receive_text() == "hi"
    tracker.flush(10)
    assert sink.events == []
    tracker.close()
