"""Values longer than SQLStorage's columns, fed by footfall's TrackUsage into PostgreSQL.

Runs under a Python that has the real Flask-Track-Usage 2.0 (tests/ftu_env.py).
Usage: long_values.py DB_URL TABLE

PostgreSQL refuses a string longer than its column (`url` holds 128
characters, `path` 32). Three requests: a long path, a `g.track_var` whose
JSON is longer than its 128-character column (which footfall does not cut:
it would no longer be JSON), and a short one. Prints JSON: the rows
`get_usage()` returns, newest first.
"""

from __future__ import annotations

import json
import logging
import sys

import sqlalchemy
from flask import Flask, g
from flask_track_usage.storage.sql import SQLStorage

from footfall.integrations.flask import TrackUsage


def main() -> None:
    logging.disable(logging.CRITICAL)  # the refused row is logged; expected here
    url, table = sys.argv[1:3]
    storage = SQLStorage(engine=sqlalchemy.create_engine(url), table_name=table)
    app = Flask(__name__)
    t = TrackUsage(app, [storage])

    @app.route("/<path:name>")
    def page(name: str) -> str:
        if name == "big":
            g.track_var["note"] = "x" * 200
        return "ok"

    client = app.test_client()
    client.get("/" + "long/" * 60)
    client.get("/big")
    client.get("/short")
    assert t.tracker.flush(30)
    rows = [{"url": r["url"], "path": r["path"]} for r in storage.get_usage()]
    print(json.dumps(sorted(rows, key=lambda r: r["path"])))


if __name__ == "__main__":
    main()
