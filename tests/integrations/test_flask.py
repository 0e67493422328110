"""The Flask extension: Flask-Track-Usage 2.0's surface on Flask 3, into a real store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .helpers import read_events

flask = pytest.importorskip("flask")

from footfall.delivery.sinks import CaptureSink  # noqa: E402
from footfall.errors import ConfigurationError  # noqa: E402
from footfall.integrations.flask import TrackUsage  # noqa: E402
from footfall.tracker import Tracker  # noqa: E402


@pytest.fixture
def example(examples_path: Path, db_url: str) -> Iterator[Any]:
    import flask_app

    made: list[TrackUsage] = []

    def _make(**config: Any) -> tuple[Any, TrackUsage]:
        app = flask_app.create_app(db_url, **config)
        t = app.extensions["footfall"]
        made.append(t)
        return app, t

    yield _make
    for t in made:
        t.tracker.close()


@pytest.fixture
def capture() -> Iterator[tuple[Tracker, CaptureSink]]:
    sink = CaptureSink()
    tracker = Tracker([sink])
    yield tracker, sink
    tracker.close()


def test_example_app_events(example: Any, db_url: str) -> None:
    app, t = example()
    client = app.test_client()
    home = client.get("/", headers={"User-Agent": "Mozilla/5.0", "Accept-Language": "en-GB"})
    client.get("/shop/product/42")
    client.get("/healthz")  # @t.exclude
    client.get("/admin/")  # excluded blueprint
    client.get("/static/x.css")  # static, excluded by default
    events = read_events(t.tracker, db_url)
    assert [(e.name, e.path) for e in events] == [
        ("pageview", "/"),
        ("pageview", "/shop/product/42"),
    ]
    first, product = events
    assert first.site == "flask.example"
    assert first.props == {"section": "home", "endpoint": "index"}
    assert first.bytes == len(home.data)
    assert first.method == "GET" and first.status == 200
    assert product.props == {
        "plan": "pro",
        "blueprint": "shop",
        "endpoint": "shop.product",
        "view_args": {"product_id": 42},
    }


def test_streaming_measured_at_its_end(example: Any, db_url: str) -> None:
    app, t = example()
    resp = app.test_client().get("/stream")
    assert resp.data.count(b"chunk") == 5
    (event,) = read_events(t.tracker, db_url)
    assert (event.status, event.bytes) == (200, len(resp.data))


def test_exception_propagates_in_testing_and_is_a_500(example: Any, db_url: str) -> None:
    app, t = example()
    app.testing = True  # PROPAGATE_EXCEPTIONS: after_request is skipped, teardown records
    with pytest.raises(RuntimeError, match="boom"):
        app.test_client().get("/boom")
    (event,) = read_events(t.tracker, db_url)
    assert event.status == 500


def test_exception_handled_by_flask_is_a_500(example: Any, db_url: str) -> None:
    app, t = example()
    resp = app.test_client().get("/boom")
    assert resp.status_code == 500
    assert b"Internal Server Error" in resp.get_data()  # the body is streamed: read it
    (event,) = read_events(t.tracker, db_url)
    assert (event.status, event.name) == (500, "request")


def test_include_mode_tracks_only_included(capture: Any) -> None:
    tracker, sink = capture
    app = flask.Flask(__name__)
    app.config["TRACK_USAGE_INCLUDE_OR_EXCLUDE_VIEWS"] = "include"
    t = TrackUsage(app, tracker=tracker)
    bp = flask.Blueprint("bp", __name__, url_prefix="/bp")

    @t.include
    @app.route("/in")
    def included() -> str:
        return "in"

    @app.route("/out")
    def not_included() -> str:
        return "out"

    t.include_blueprint(bp)

    @bp.route("/x")  # added after include_blueprint: still included
    def bp_view() -> str:
        return "x"

    app.register_blueprint(bp)
    client = app.test_client()
    for path in ("/in", "/out", "/bp/x", "/nowhere"):
        client.get(path).get_data()
    tracker.flush(10)
    assert [e.path for e in sink.events] == ["/in", "/bp/x"]
    assert included.__name__ == "included"  # the decorator returns the view


def test_exclude_mode_tracks_all_but_excluded(capture: Any) -> None:
    tracker, sink = capture
    app = flask.Flask(__name__)
    app.config["TRACK_USAGE_INCLUDE_OR_EXCLUDE_VIEWS"] = "exclude"
    t = TrackUsage(app, tracker=tracker)
    bp = flask.Blueprint("private", __name__, url_prefix="/private")

    @app.route("/a")
    def a() -> str:
        return "a"

    @t.exclude
    @app.route("/b")
    def b() -> str:
        return "b"

    @bp.route("/c")
    def c() -> str:
        return "c"

    app.register_blueprint(bp)
    t.exclude_blueprint(bp)
    client = app.test_client()
    for path in ("/a", "/b", "/private/c", "/nowhere"):
        client.get(path).get_data()
    tracker.flush(10)
    assert [(e.path, e.status) for e in sink.events] == [("/a", 200), ("/nowhere", 404)]


def test_bad_mode_is_refused_like_flask_track_usage() -> None:
    app = flask.Flask(__name__)
    app.config["TRACK_USAGE_INCLUDE_OR_EXCLUDE_VIEWS"] = ""
    with pytest.raises(NotImplementedError):
        TrackUsage(app, tracker=Tracker([CaptureSink()]))


def test_init_app_later(capture: Any) -> None:
    tracker, sink = capture
    t = TrackUsage(tracker=tracker)
    app = flask.Flask(__name__)

    @app.route("/")
    def index() -> str:
        flask.g.track_var["k"] = "v"
        return "<p>hi</p>"

    t.init_app(app)
    app.test_client().get("/")
    tracker.flush(10)
    assert sink.events[0].props["k"] == "v"


def test_cookie_config(db_url: str) -> None:
    app = flask.Flask(__name__)
    app.config["TRACK_USAGE_COOKIE"] = True

    @app.route("/")
    def index() -> str:
        return "<p>hi</p>"

    t = TrackUsage(app, [db_url])
    client = app.test_client()
    cookie = client.get("/").headers["Set-Cookie"]
    assert cookie.startswith("footfall_visit=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    key = cookie.split(";")[0].split("=", 1)[1]
    assert "Set-Cookie" not in client.get("/").headers
    secure = app.test_client().get("/", base_url="https://localhost").headers["Set-Cookie"]
    assert "; Secure" in secure
    events = read_events(t.tracker, db_url)
    assert [e.visitor_id for e in events[:2]] == [key, key]
    t.tracker.close()


def test_freegeoip_is_answered_offline(db_url: str) -> None:
    app = flask.Flask(__name__)
    app.config["TRACK_USAGE_USE_FREEGEOIP"] = True
    app.config["TRACK_USAGE_FREEGEOIP_ENDPOINT"] = "http://203.0.113.1/json/{ip}"  # never called

    @app.route("/")
    def index() -> str:
        return "<p>hi</p>"

    t = TrackUsage(app, [db_url])
    names = [type(p).__name__ for p in t.tracker.processors]
    assert "GeoProcessor" in names
    app.test_client().get("/", environ_base={"REMOTE_ADDR": "8.8.8.8"})
    (event,) = read_events(t.tracker, db_url)
    assert event.ip == ""  # dropped after geo by default
    t.tracker.close()


def test_foreign_storage_is_refused_with_a_hint() -> None:
    app = flask.Flask(__name__)
    with pytest.raises(ConfigurationError, match="store URL"):
        TrackUsage(app, [object()])


def test_dnt_and_user(capture: Any) -> None:
    tracker, sink = capture
    app = flask.Flask(__name__)
    app.config["FOOTFALL_HONOR_DNT"] = True
    t = TrackUsage(app, tracker=tracker)

    @app.route("/")
    def index() -> str:
        return "<p>hi</p>"

    client = app.test_client()
    client.get("/", headers={"DNT": "1"})
    client.get("/", headers={"Authorization": "Basic Ym9iOnNlY3JldA=="})  # bob:secret
    tracker.flush(10)
    assert [e.user_id for e in sink.events] == ["bob"]
    assert t.tracker is tracker


def test_proxy_fix_inside_the_extension_is_honoured(capture: Any) -> None:
    # The request is read in after_request, after WSGI middleware wrapped
    # around the app earlier (ProxyFix) has set the client address.
    from werkzeug.middleware.proxy_fix import ProxyFix

    tracker, sink = capture
    app = flask.Flask("proxied")
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]
    TrackUsage(app, tracker=tracker)
    app.add_url_rule("/", "index", lambda: "ok")
    app.test_client().get(
        "/", headers={"X-Forwarded-For": "198.51.100.9", "X-Forwarded-Proto": "https"}
    )
    tracker.flush(5)
    (event,) = sink.events
    assert event.ip == "198.51.100.9"
    assert event.url.startswith("https://")


def test_duration_and_time_count_from_arrival(capture: Any) -> None:
    import time
    from datetime import datetime, timezone

    tracker, sink = capture
    app = flask.Flask("slow")
    TrackUsage(app, tracker=tracker)
    seen: list[datetime] = []

    def slow() -> str:
        assert flask.g.track_var == {}  # there before the view, as Flask-Track-Usage made it
        seen.append(datetime.now(timezone.utc))
        time.sleep(0.05)
        return "ok"

    app.add_url_rule("/", "slow", slow)
    before = datetime.now(timezone.utc)
    app.test_client().get("/")
    tracker.flush(5)
    (event,) = sink.events
    assert event.duration_ms >= 50  # the view's sleep is inside the measured time
    assert before <= event.ts <= seen[0]  # ts is the arrival, not the end
