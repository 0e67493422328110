"""`FootfallStorage`: footfall's store with Flask-Track-Usage's storage face, on any Flask.

An app that drops Flask-Track-Usage (it does not run on Flask >= 2.3) puts
`FootfallStorage(url)` where `SQLStorage(...)` stood; its `get_usage()` must
answer with Flask-Track-Usage's documented dicts and its hooks must be
called the way Flask-Track-Usage called them.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from tests.ftu_env import run_ftu

from footfall.integrations.flask_track_usage import FootfallStorage

flask = pytest.importorskip("flask")

from footfall.integrations.flask import TrackUsage  # noqa: E402 - needs flask

# The keys of one `get_usage` item, in the order Flask-Track-Usage 2.0 documents them.
DOCUMENTED = [
    "url",
    "user_agent",
    "blueprint",
    "view_args",
    "status",
    "remote_addr",
    "xforwardedfor",
    "authorization",
    "ip_info",
    "path",
    "speed",
    "date",
    "username",
    "track_var",
]
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)


class Recorder:
    """A hook written for Flask-Track-Usage: a class with set_up and __call__."""

    def __init__(self, **kwargs: Any) -> None:
        self.calls: list[dict[str, Any]] = []
        self.set_up_with: list[str] = []

    def set_up(self, **kwargs: Any) -> None:
        self.set_up_with = sorted(kwargs)

    def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)


def _app(storage: FootfallStorage, **options: Any) -> tuple[Any, TrackUsage]:
    app = flask.Flask(__name__)
    app.config["TRACK_USAGE_USE_FREEGEOIP"] = False
    app.config["TRACK_USAGE_INCLUDE_OR_EXCLUDE_VIEWS"] = "include"
    t = TrackUsage(app, [storage], **options)

    @t.include
    @app.route("/")
    def index() -> str:
        flask.g.track_var["optional"] = "something"
        return "Hello"

    @t.include
    @app.route("/user/<name>")
    def user(name: str) -> str:
        return "Hi " + name

    @app.route("/other")
    def other() -> str:
        return "Not included"

    return app, t


def _requests(app: Any) -> None:
    client = app.test_client()
    browser = {"User-Agent": CHROME, "Accept-Language": "en-US,en;q=0.8"}
    client.get(
        "/?q=shoes&q=boots&page=2", headers=browser, environ_base={"REMOTE_ADDR": "203.0.113.9"}
    )
    client.get("/other", headers=browser)
    client.get(
        "/user/bob",
        headers={"Authorization": "Basic Ym9iOnNlY3JldA==", "X-Forwarded-For": "198.51.100.4"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    )


def test_get_usage_answers_in_flask_track_usage_shape(db_url: str) -> None:
    hook = Recorder()
    storage = FootfallStorage(db_url, hooks=[hook])
    app, t = _app(storage, ip="keep")
    _requests(app)
    assert t.tracker.flush(30)
    rows = storage.get_usage()
    assert [list(r) for r in rows] == [DOCUMENTED, DOCUMENTED]
    by_path = {r["path"]: r for r in rows}
    index, bob = by_path["/"], by_path["/user/bob"]
    assert index["url"] == "http://localhost/?q=shoes&q=boots&page=2"
    assert index["track_var"] == '{"optional": "something"}'
    assert index["view_args"] is None and index["blueprint"] is None
    assert index["remote_addr"] == "203.0.113.9" and index["status"] == 200
    assert index["user_agent"]["browser"] == "Chrome"
    assert bob["view_args"] == '{"name": "bob"}' and bob["track_var"] is None
    assert bob["authorization"] is True and bob["username"] == "bob"
    assert index["date"].tzinfo is None and index["date"].microsecond == 0
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    assert now - timedelta(minutes=2) < index["date"] <= now
    # The hook: set up with the storage's arguments, then called once per row.
    assert hook.set_up_with == ["_parent_class_name", "_parent_self", "hooks", "store"]
    assert [c["path"] for c in hook.calls] == ["/", "/user/bob"]
    assert {c["_parent_class_name"] for c in hook.calls} == {"FootfallStorage"}
    assert hook.calls[0]["url_args"] == {"q": "shoes", "page": "2"}  # the first of each
    t.tracker.close()


def test_get_usage_pages_and_dates_as_flask_track_usage_did(db_url: str) -> None:
    storage = FootfallStorage(db_url)
    app, t = _app(storage)
    client = app.test_client()
    for _ in range(5):
        client.get("/")
    assert t.tracker.flush(30)
    assert len(storage.get_usage(limit=2)) == 2
    assert len(storage.get_usage(limit=2, page=3)) == 1
    assert storage.get_usage(limit=2, page=4) == []
    date = storage.get_usage(limit=1)[0]["date"]
    # Bounds are whole seconds, both included, naive datetimes being UTC.
    assert len(storage.get_usage(start_date=date, end_date=date)) >= 1
    assert storage.get_usage(end_date=date - timedelta(seconds=1)) == []
    assert storage.get_usage(start_date=date + timedelta(seconds=1)) == []
    t.tracker.close()


def test_same_columns_as_flask_track_usage_itself(db_url: str, tmp_path: Path) -> None:
    """The documented example's rows from the real Flask-Track-Usage 2.0 and FootfallStorage."""
    theirs = {
        r["path"]: r
        for r in run_ftu("run_example.py", "ftu", f"sqlite:///{tmp_path}/f.sqlite", "flask_usage")[
            "rows"
        ]
    }
    storage = FootfallStorage(db_url)
    app, t = _app(storage, ip="keep")
    _requests(app)
    assert t.tracker.flush(30)
    mine = {r["path"]: r for r in storage.get_usage()}
    assert sorted(theirs) == sorted(mine)
    for path, row in theirs.items():
        assert list(row) == list(mine[path])
        for key in ("url", "blueprint", "view_args", "status", "remote_addr", "authorization"):
            assert row[key] == mine[path][key], key
        for key in ("ip_info", "path", "username", "track_var"):
            assert row[key] == mine[path][key], key
    t.tracker.close()
