"""Flask-Track-Usage 2.0's documented example, run with its own TrackUsage or footfall's.

Runs under a Python that has the real Flask-Track-Usage 2.0 (tests/ftu_env.py).
Usage: run_example.py ftu|footfall DB_URL TABLE [--keep-ip] [--sum-url]
(--keep-ip: footfall keeps IP addresses, as Flask-Track-Usage did)

The app is the example of Flask-Track-Usage 2.0's documentation (its
`index` view verbatim) with an `SQLStorage` where the example has its print
writers, a post-storage hook that records what it is called with, and one
more included view that has view arguments. Only the import line differs
between the two runs. Prints JSON: the storage's `get_usage()`, the hook's
calls and, with --sum-url (PostgreSQL only), the `sumUrl` summary rows.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import sqlalchemy

IMPORTS = {
    "ftu": "from flask_track_usage import TrackUsage",
    "footfall": "from footfall.integrations.flask import TrackUsage",
}

APP = """
from flask import Flask, g
app = Flask(__name__)

# Set the configuration items manually for the example
app.config['TRACK_USAGE_USE_FREEGEOIP'] = False
app.config['TRACK_USAGE_INCLUDE_OR_EXCLUDE_VIEWS'] = 'include'

{import_line}

t = TrackUsage(app, [storage], **options)

# Include the view in the metrics
@t.include
@app.route('/')
def index():
    g.track_var["optional"] = "something"
    return "Hello"

@t.include
@app.route('/user/<name>')
def user(name):
    return "Hi " + name

@app.route('/other')
def other():
    return "Not included"
"""

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)


class Recorder:
    """A post-storage hook written for Flask-Track-Usage: a class with set_up and __call__."""

    calls: list[dict[str, Any]] = []

    def __init__(self, **kwargs: Any) -> None:
        self.parent = kwargs.get("_parent_class_name")

    def set_up(self, **kwargs: Any) -> None:
        Recorder.calls.append({"set_up": sorted(kwargs)})

    def __call__(self, **kwargs: Any) -> None:
        Recorder.calls.append(
            {
                "keys": sorted(kwargs),
                "path": kwargs["path"],
                "status": kwargs["status"],
                "parent": kwargs["_parent_class_name"],
            }
        )


def main() -> None:
    kind, url, table = sys.argv[1:4]
    flags = set(sys.argv[4:])
    from flask_track_usage.storage.sql import SQLStorage

    hooks: list[Any] = [Recorder]
    if "--sum-url" in flags:
        from flask_track_usage.summarization import sumUrl

        hooks.append(sumUrl)
    engine = sqlalchemy.create_engine(url)
    storage = SQLStorage(engine=engine, table_name=table, hooks=hooks)
    for summary_table in storage.sum_tables.values():
        summary_table.create(bind=engine, checkfirst=True)  # what its alembic migration makes
    # Footfall drops IP addresses unless told to keep them (Flask-Track-Usage kept them).
    options = {"ip": "keep"} if "--keep-ip" in flags and kind == "footfall" else {}
    namespace: dict[str, Any] = {"__name__": "ftu_example", "storage": storage, "options": options}
    exec(compile(APP.format(import_line=IMPORTS[kind]), "app.py", "exec"), namespace)
    app, t = namespace["app"], namespace["t"]
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
    if kind == "footfall":
        assert t.tracker.flush(30), "footfall did not flush"
    rows = storage.get_usage()
    summary: list[Any] = []
    if "--sum-url" in flags:
        with engine.begin() as con:
            result = con.execute(
                sqlalchemy.text(f"SELECT url, hits, transfer FROM {table}_url_hourly ORDER BY url")
            )
            summary = [list(r) for r in result]
    print(json.dumps({"rows": rows, "hooks": Recorder.calls, "sum_url": summary}, default=str))


if __name__ == "__main__":
    main()
