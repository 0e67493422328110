"""The WSGI middleware, driven through werkzeug's test client into a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .helpers import read_events

werkzeug_test = pytest.importorskip("werkzeug.test")


@pytest.fixture
def make(examples_path: Path, db_url: str) -> Iterator[Any]:
    """Build the example WSGI app with options; close its trackers afterwards."""
    import wsgi_app

    made: list[Any] = []

    def _make(**options: Any) -> tuple[Any, Any]:
        app = wsgi_app.create_app(db_url, **options)
        made.append(app)
        return app, werkzeug_test.Client(app)

    yield _make
    for app in made:
        app.tracker.close()


def test_events_reach_the_store(make: Any, db_url: str) -> None:
    app, client = make()
    resp = client.get(
        "/?q=1",
        headers={
            "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0",
            "Accept-Language": "de-DE,de;q=0.9",
            "Referer": "https://news.ycombinator.com/item?id=1",
        },
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert resp.status_code == 200
    client.get("/api/ping")
    (page, api) = read_events(app.tracker, db_url)
    assert page.name == "pageview"
    assert (page.method, page.status, page.path) == ("GET", 200, "/")
    assert page.url == "http://localhost/?q=1"
    assert page.host == "localhost"
    assert page.site == "wsgi.example"
    assert page.source == "server"
    assert page.bytes == len(resp.data)
    assert page.duration_ms > 0
    assert page.referrer == "https://news.ycombinator.com/item?id=1"
    assert page.user_agent.startswith("Mozilla/5.0") or page.browser  # may be dropped by privacy
    assert api.name == "request"  # JSON, not a page view
    assert api.status == 200


def test_spoofed_forwarded_for_cannot_set_the_ip(make: Any) -> None:
    import wsgi_app

    from footfall.delivery.sinks import CaptureSink
    from footfall.integrations.wsgi import FootfallMiddleware
    from footfall.tracker import Tracker

    sink = CaptureSink()
    tracker = Tracker([sink])
    direct = werkzeug_test.Client(FootfallMiddleware(wsgi_app.hello, tracker))
    behind_proxy = werkzeug_test.Client(
        FootfallMiddleware(wsgi_app.hello, tracker, trusted_proxies=1)
    )
    spoof = {"X-Forwarded-For": "6.6.6.6", "Forwarded": "for=6.6.6.6"}
    direct.get("/", headers=spoof, environ_base={"REMOTE_ADDR": "198.51.100.1"})
    # Behind one proxy, the client's own header value is left of what the proxy appended.
    behind_proxy.get(
        "/",
        headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.5", "Forwarded": "for=6.6.6.6"},
        environ_base={"REMOTE_ADDR": "10.0.0.1"},
    )
    tracker.flush(10)
    assert [e.ip for e in sink.events] == ["198.51.100.1", "203.0.113.5"]
    tracker.close()


def test_streaming_is_measured_when_it_ends(make: Any, db_url: str) -> None:
    app, client = make()
    resp = client.get("/stream")
    assert resp.data == b"".join(f"chunk {i}\n".encode() for i in range(5))
    (event,) = read_events(app.tracker, db_url)
    assert event.status == 200
    assert event.bytes == len(resp.data)


def test_exception_is_a_500_and_propagates_unchanged(make: Any, db_url: str) -> None:
    app, client = make()
    with pytest.raises(RuntimeError, match="boom"):
        client.get("/boom")
    (event,) = read_events(app.tracker, db_url)
    assert event.status == 500
    assert event.name == "request"


def test_exception_inside_a_stream(db_url: str, make: Any) -> None:
    from footfall.integrations.wsgi import FootfallMiddleware

    def app(environ: Any, start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"partial"
        raise ValueError("stream broke")

    mw = FootfallMiddleware(app, sinks=[db_url])
    with pytest.raises(ValueError, match="stream broke"):
        werkzeug_test.Client(mw).get("/").get_data()
    (event,) = read_events(mw.tracker, db_url)
    assert (event.status, event.bytes) == (500, len(b"partial"))
    mw.tracker.close()


def test_include_exclude_and_static(make: Any, db_url: str) -> None:
    app, client = make(include=["/api/*", "/static/*"], exclude=["/api/private*"])
    for path in ("/", "/api/ping", "/api/private/x", "/static/app.css"):
        client.get(path)
    assert [e.path for e in read_events(app.tracker, db_url)] == ["/api/ping"]


def test_cookie_mode(make: Any, db_url: str) -> None:
    app, client = make(cookie=True)
    first = client.get("/")
    cookie = first.headers["Set-Cookie"]
    name, _, rest = cookie.partition("=")
    key = rest.split(";")[0]
    assert name == "footfall_visit"
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http
    again = client.get("/api/ping")  # the client sends the cookie back
    assert "Set-Cookie" not in again.headers
    fresh = werkzeug_test.Client(app, use_cookies=False)
    https = fresh.get("/", base_url="https://localhost", headers={"Cookie": "footfall_visit=bad"})
    assert "; Secure" in https.headers["Set-Cookie"]
    events = read_events(app.tracker, db_url)
    assert [e.visitor_id for e in events[:2]] == [key, key]
    assert events[2].visitor_id not in ("", key, "bad")


def test_dnt_honoured_only_when_configured(make: Any, db_url: str) -> None:
    app, client = make(honor_dnt=True)
    client.get("/", headers={"DNT": "1"})
    client.get("/", headers={"Sec-GPC": "1"})
    client.get("/api/ping")
    assert [e.path for e in read_events(app.tracker, db_url)] == ["/api/ping"]
    app.tracker.close()
    app2, client2 = make()
    client2.get("/", headers={"DNT": "1"})
    assert len(read_events(app2.tracker, db_url)) == 2  # the earlier /api/ping plus this one


def test_remote_user_is_the_user_id(make: Any, db_url: str) -> None:
    app, client = make()
    client.get("/", environ_base={"REMOTE_USER": "alice"})
    (event,) = read_events(app.tracker, db_url)
    assert event.user_id == "alice"


def test_global_tracker_is_used_without_sinks(footfall_capture: Any, examples_path: Path) -> None:
    import wsgi_app

    from footfall.integrations.wsgi import FootfallMiddleware

    werkzeug_test.Client(FootfallMiddleware(wsgi_app.hello)).get("/")
    assert footfall_capture.names() == ["pageview"]


def test_inline_visit_plugin_sees_the_wsgi_environ(make: Any) -> None:
    from footfall.integrations.visits import disable_visit_plugin, enable_visit_plugin

    seen: list[tuple[bool, str, str]] = []

    class Inline:
        inline = True

        def record_request(self, visit: Any, request: Any) -> None:
            seen.append((visit.is_new, visit.key, request["PATH_INFO"]))

    plugin = Inline()
    enable_visit_plugin(plugin)
    try:
        _app, client = make(cookie=True)
        client.get("/")
        client.get("/api/ping")
    finally:
        disable_visit_plugin(plugin)
    assert [(new, path) for new, _, path in seen] == [(True, "/"), (False, "/api/ping")]
    assert seen[0][1] == seen[1][1]  # same visit


def test_site_comes_from_option_then_tracker_then_host(examples_path: Path) -> None:
    import wsgi_app

    from footfall.delivery.sinks import CaptureSink
    from footfall.integrations.wsgi import FootfallMiddleware
    from footfall.tracker import Tracker

    sink = CaptureSink()
    named = Tracker([sink], site="tracker.example")
    werkzeug_test.Client(FootfallMiddleware(wsgi_app.hello, named)).get("/")
    werkzeug_test.Client(FootfallMiddleware(wsgi_app.hello, named, site="option.example")).get("/")
    named.flush(10)
    plain = Tracker([sink])
    werkzeug_test.Client(FootfallMiddleware(wsgi_app.hello, plain)).get(
        "/", base_url="http://shop.example:8080"
    )
    plain.flush(10)
    assert [e.site for e in sink.events] == ["tracker.example", "option.example", "shop.example"]
    named.close()
    plain.close()


def test_file_wrapper_is_passed_through(tmp_path: Path) -> None:
    import io

    from footfall.delivery.sinks import CaptureSink
    from footfall.integrations.wsgi import FootfallMiddleware
    from footfall.tracker import Tracker

    class FileWrapper:
        def __init__(self, f: Any, size: int = 8192) -> None:
            self.f = f

        def __iter__(self) -> Iterator[bytes]:
            yield self.f.read()

        def close(self) -> None:
            self.f.close()

    def app(environ: Any, start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "application/pdf"), ("Content-Length", "4")])
        return environ["wsgi.file_wrapper"](io.BytesIO(b"%PDF"))

    sink = CaptureSink()
    tracker = Tracker([sink])
    mw = FootfallMiddleware(app, tracker)
    captured: list[Any] = []
    env = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/report",
        "SERVER_NAME": "x",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.file_wrapper": FileWrapper,
    }
    result = mw(env, lambda status, headers, exc_info=None: captured.append(status))
    assert isinstance(result, FileWrapper)  # untouched: the server may sendfile it
    tracker.flush(10)
    assert [(e.path, e.bytes, e.name) for e in sink.events] == [("/report", 4, "request")]
    tracker.close()
