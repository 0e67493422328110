"""An event the app emits while a tracked request is handled is that request's visitor's.

Each test runs a real app behind footfall's integration, with the events of
the request (the middleware's tracker) and those the view emits (the global
tracker) going into one SQLite file through the default processors, as the
README sets them up: both get the same visitor id and the same visit, and a
second visitor's request gets another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

import footfall
from footfall.event import Event
from footfall.tracker import Tracker, register_tracker, unregister_tracker

from .helpers import read_events

ALICE = {"REMOTE_ADDR": "81.2.69.142", "HTTP_USER_AGENT": "Mozilla/5.0 Firefox/128.0"}
BOB = {"REMOTE_ADDR": "81.2.69.160", "HTTP_USER_AGENT": "Mozilla/5.0 Chrome/126.0"}


@pytest.fixture
def app_tracker(db_url: str) -> Iterator[Tracker]:
    """The tracker `footfall.emit` uses, writing where the middleware writes."""
    tracker = register_tracker(Tracker([db_url]))
    yield tracker
    unregister_tracker()
    tracker.close()


def _pairs(events: list[Event]) -> dict[str, tuple[Event, Event]]:
    """(request event, custom event) per path; the custom event names its path in props."""
    requests = {e.path: e for e in events if e.name in ("pageview", "request")}
    custom = {e.props["path"]: e for e in events if e.name == "shop.checkout"}
    assert set(requests) == set(custom), [(e.name, e.path) for e in events]
    return {p: (requests[p], custom[p]) for p in requests}


def _check_shared(events: list[Event]) -> None:
    pairs = _pairs(events)
    for path, (request, custom) in pairs.items():
        assert request.visitor_id and custom.visitor_id == request.visitor_id, path
        assert request.visit_id and custom.visit_id == request.visit_id, path
        assert custom.ip == "" and custom.site == request.site, path  # privacy ran on it too
        assert custom.browser == request.browser != "", path
    alice, bob = pairs["/alice"][0], pairs["/bob"][0]
    assert alice.visitor_id != bob.visitor_id


def _view_emitting(path: str) -> None:
    footfall.emit("shop.checkout", {"path": path}, user_id="42")


def test_wsgi_request_and_its_custom_event_share_visitor_and_visit(
    db_url: str, app_tracker: Tracker
) -> None:
    from werkzeug.test import Client

    from footfall.integrations.wsgi import FootfallMiddleware

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        _view_emitting(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "text/html")])
        return [b"<p>ok</p>"]

    wrapped = FootfallMiddleware(app, sinks=[db_url], site="shop.example")
    client = Client(wrapped)
    client.get("/alice", environ_base=ALICE)
    client.get("/bob", environ_base=BOB)
    assert app_tracker.flush(30)
    _check_shared(read_events(wrapped.tracker, db_url))
    wrapped.tracker.close()


def test_flask_request_behind_proxyfix_shares_visitor_and_visit(
    db_url: str, app_tracker: Tracker
) -> None:
    flask = pytest.importorskip("flask")
    from werkzeug.middleware.proxy_fix import ProxyFix

    from footfall.integrations.flask import TrackUsage

    app = flask.Flask(__name__)
    app.config["FOOTFALL_SITE"] = "shop.example"

    @app.route("/<name>")
    def page(name: str) -> str:
        _view_emitting(f"/{name}")
        return "<p>ok</p>"

    # ProxyFix inside the extension's wrapper: the client address is the
    # forwarded one only once the app runs, and both events must use that one.
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1)  # type: ignore[method-assign]
    t = TrackUsage(app, [db_url])
    client = app.test_client()
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for path, who in (("/alice", ALICE), ("/bob", BOB)):
        headers = {"X-Forwarded-For": who["REMOTE_ADDR"], "User-Agent": who["HTTP_USER_AGENT"]}
        assert client.get(path, headers=headers, environ_base=proxy).status_code == 200
    assert app_tracker.flush(30)
    _check_shared(read_events(t.tracker, db_url))
    t.tracker.close()


def test_flask_cookie_mode_gives_the_new_cookie_key_to_both_events(
    db_url: str, app_tracker: Tracker
) -> None:
    flask = pytest.importorskip("flask")
    from footfall.integrations.flask import TrackUsage

    app = flask.Flask(__name__)
    app.config["TRACK_USAGE_COOKIE"] = True

    @app.route("/<name>")
    def page(name: str) -> str:
        _view_emitting(f"/{name}")
        return "<p>ok</p>"

    t = TrackUsage(app, [db_url])
    for path, who in (("/alice", ALICE), ("/bob", BOB)):
        client = app.test_client()  # a fresh browser: no cookie yet, one is set now
        response = client.get(path, environ_base=who)
        assert "footfall" in response.headers.get("Set-Cookie", "")
    assert app_tracker.flush(30)
    events = read_events(t.tracker, db_url)
    _check_shared(events)
    keys = {e.visitor_id for e in events}
    assert len(keys) == 2 and all(len(k) > 20 for k in keys)  # the cookie keys themselves
    t.tracker.close()


def test_asgi_request_and_its_custom_event_share_visitor_and_visit(
    db_url: str, app_tracker: Tracker
) -> None:
    pytest.importorskip("starlette")
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from footfall.integrations.asgi import FootfallMiddleware

    async def page(request: Request) -> HTMLResponse:
        _view_emitting(request.url.path)
        return HTMLResponse("<p>ok</p>")

    def sync_page(request: Request) -> HTMLResponse:  # run in a thread: the context goes along
        _view_emitting(request.url.path)
        return HTMLResponse("<p>ok</p>")

    app = Starlette(routes=[Route("/alice", page), Route("/bob", sync_page)])
    wrapped = FootfallMiddleware(app, sinks=[db_url], site="shop.example")
    with TestClient(wrapped, client=("81.2.69.142", 5000)) as client:
        client.get("/alice", headers={"User-Agent": ALICE["HTTP_USER_AGENT"]})
    with TestClient(wrapped, client=("81.2.69.160", 5000)) as client:
        client.get("/bob", headers={"User-Agent": BOB["HTTP_USER_AGENT"]})
    assert app_tracker.flush(30)
    _check_shared(read_events(wrapped.tracker, db_url))
    wrapped.tracker.close()


def test_an_event_outside_any_request_names_no_visitor(db_url: str, app_tracker: Tracker) -> None:
    """After a request ends its binding is gone: a later event is nobody's (no user id either)."""
    from werkzeug.test import Client

    from footfall.integrations.wsgi import FootfallMiddleware

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/html")])
        return [b"ok"]

    Client(FootfallMiddleware(app, tracker=app_tracker)).get("/", environ_base=ALICE)
    later = footfall.emit("cron.cleanup")
    assert (later.ip, later.user_agent, later.visitor_id) == ("", "", "")
    events = {e.name: e for e in read_events(app_tracker, db_url)}
    assert events["pageview"].visitor_id and events["cron.cleanup"].visitor_id == ""
