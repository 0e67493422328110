"""Write a small Flask-Track-Usage 2.0 history table, with the real Flask-Track-Usage.

Runs under a Python that has the real Flask-Track-Usage 2.0 (tests/ftu_env.py).
Usage: make_sample.py DB_URL [TABLE]

A Flask app tracked by Flask-Track-Usage's own `TrackUsage` and `SQLStorage`
(exclude mode, its default: every view is tracked, static files and 404s
too) gets the requests of `VISITS` below, three days of them, each stamped
with its time through Flask-Track-Usage's `_fake_time`. On the first two
days the app runs as it did under Werkzeug < 2.1, whose request parsed the
user agent into the `ua_*` columns (`Werkzeug1Agent` gives the names that
parser gave); on the third the columns stay empty, as under later Werkzeug.
`flask_usage.sqlite` beside this script is this script's output; the tests
write it afresh and compare. Prints the number of rows written.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime

import sqlalchemy
from flask import Blueprint, Flask, Request, g, jsonify
from flask_track_usage import TrackUsage
from flask_track_usage.storage.sql import SQLStorage
from werkzeug.user_agent import UserAgent

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.2 Safari/605.1.15"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1"
)

# What Werkzeug 1.x's user agent parser said of these: (browser, platform, version).
WERKZEUG1 = {
    CHROME: ("chrome", "windows", "120.0.0.0"),
    FIREFOX: ("firefox", "linux", "121.0"),
    SAFARI: ("safari", "macos", "17.2"),
    GOOGLEBOT: ("google", None, "2.1"),
}

# (UTC time, user agent, client address, path, extra headers)
VISITS = [
    ("2024-03-04 09:00:00", CHROME, "203.0.113.10", "/", {}),
    ("2024-03-04 09:05:00", CHROME, "203.0.113.10", "/about", {}),
    ("2024-03-04 09:50:00", CHROME, "203.0.113.10", "/products/42", {}),
    ("2024-03-04 10:00:00", FIREFOX, "198.51.100.7", "/", {}),
    ("2024-03-04 10:00:30", FIREFOX, "198.51.100.7", "/static/app.css", {}),
    ("2024-03-04 10:01:00", FIREFOX, "198.51.100.7", "/missing", {}),
    ("2024-03-04 11:00:00", GOOGLEBOT, "66.249.66.1", "/", {}),
    ("2024-03-05 08:00:00", CHROME, "203.0.113.10", "/?utm_source=newsletter&utm_medium=email", {}),
    ("2024-03-05 08:02:00", CHROME, "203.0.113.10", "/blog/hello", {}),
    ("2024-03-05 12:00:00", SAFARI, "10.0.0.2", "/", {"X-Forwarded-For": "192.0.2.33"}),
    (
        "2024-03-05 12:01:00",
        SAFARI,
        "10.0.0.2",
        "/account",
        {"X-Forwarded-For": "192.0.2.33", "Authorization": "Basic Y2Fyb2w6cHc="},
    ),
    ("2024-03-06 07:00:00", IPHONE, "203.0.113.99", "/", {}),
    ("2024-03-06 07:01:00", IPHONE, "203.0.113.99", "/api/items", {}),
]
WERKZEUG1_UNTIL = "2024-03-06"  # from this day on, the app runs on a later Werkzeug


class Werkzeug1Agent(UserAgent):
    """`request.user_agent` as Werkzeug 1.x parsed it."""

    def __init__(self, string: str) -> None:
        super().__init__(string)
        self.browser, self.platform, self.version = WERKZEUG1.get(string, (None, None, None))


class Werkzeug1Request(Request):
    user_agent_class = Werkzeug1Agent


def make_app(storage: SQLStorage) -> tuple[Flask, TrackUsage]:
    app = Flask(__name__, static_folder=None)
    t = TrackUsage(app, [storage])
    blog = Blueprint("blog", __name__, url_prefix="/blog")

    @blog.route("/<slug>")
    def post(slug: str) -> str:
        g.track_var["ab"] = "v2"
        return f"<h1>{slug}</h1>"

    app.register_blueprint(blog)

    @app.route("/")
    def index() -> str:
        return "<h1>Shop</h1>"

    @app.route("/about")
    def about() -> str:
        return "<h1>About</h1>"

    @app.route("/products/<int:number>")
    def product(number: int) -> str:
        return f"<h1>Product {number}</h1>"

    @app.route("/static/<path:name>")
    def static(name: str) -> tuple[str, int, dict[str, str]]:
        return "body{}", 200, {"Content-Type": "text/css"}

    @app.route("/account")
    def account() -> str:
        return "<h1>Account</h1>"

    @app.route("/api/items")
    def items() -> object:
        return jsonify([1, 2, 3])

    return app, t


def main() -> None:
    url = sys.argv[1]
    table = sys.argv[2] if len(sys.argv) > 2 else "flask_usage"
    storage = SQLStorage(engine=sqlalchemy.create_engine(url), table_name=table)
    app, t = make_app(storage)
    client = app.test_client()
    for when, agent, address, path, headers in VISITS:
        app.request_class = Werkzeug1Request if when < WERKZEUG1_UNTIL else Request
        t._fake_time = datetime.fromisoformat(when)
        client.get(
            path,
            base_url="https://shop.example",
            headers={"User-Agent": agent, **headers},
            environ_base={"REMOTE_ADDR": address},
        )
    print(json.dumps({"rows": len(VISITS)}))


if __name__ == "__main__":
    main()
