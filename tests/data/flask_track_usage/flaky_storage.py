"""A Flask-Track-Usage storage that fails once, fed by footfall's TrackUsage.

Runs under a Python that has the real Flask-Track-Usage 2.0 (tests/ftu_env.py).
The storage is a subclass of Flask-Track-Usage's `Storage`, as its docs tell
users to write one: its second `store` call raises a connection error once,
and its post-storage hook raises every time. Prints JSON: the paths stored,
in order, and how many times the hook ran.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask
from flask_track_usage.storage import Storage

from footfall.integrations.flask import TrackUsage


class Flaky(Storage):
    def set_up(self, *args: Any, **kwargs: Any) -> None:
        self.rows: list[str] = []
        self.calls = 0

    def store(self, data: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        if self.calls == 2:
            raise ConnectionError("database went away")
        self.rows.append(data["path"])
        return data


class Hook:
    runs = 0

    def set_up(self, **kwargs: Any) -> None:
        pass

    def __call__(self, **kwargs: Any) -> None:
        Hook.runs += 1
        raise RuntimeError("a hook that fails")


def main() -> None:
    logging.disable(logging.CRITICAL)  # the retries and the hook's errors are expected
    storage = Flaky(hooks=[Hook()])
    app = Flask(__name__)
    t = TrackUsage(app, [storage])

    @app.route("/<name>")
    def page(name: str) -> str:
        return name

    client = app.test_client()
    for name in ("a", "b", "c"):
        client.get(f"/{name}")
    assert t.tracker.flush(30)
    print(json.dumps({"rows": storage.rows, "hook_runs": Hook.runs}))


if __name__ == "__main__":
    main()
