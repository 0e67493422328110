"""An app written for Flask-Track-Usage 2.0 runs with only its import changed."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import pytest

from .helpers import read_events

pytest.importorskip("flask")

# Flask-Track-Usage 2.0's documented usage example, as a user would have it.
FTU_APP = """
from flask import Flask, g
{import_line}

app = Flask(__name__)

# Set the configuration items manually for the example
app.config['TRACK_USAGE_USE_FREEGEOIP'] = False
app.config['TRACK_USAGE_INCLUDE_OR_EXCLUDE_VIEWS'] = 'include'

t = TrackUsage(app, [sink])

# Include the view in the metrics
@t.include
@app.route('/')
def index():
    g.track_var["optional"] = "something"
    return "Hello"

@app.route('/other')
def other():
    return "Not included"
"""
ORIGINAL = "from flask_track_usage import TrackUsage"
SWITCHED = "from footfall.integrations.flask import TrackUsage"


def test_docs_app_with_import_changed(db_url: str) -> None:
    source = FTU_APP.format(import_line=SWITCHED)
    assert source.replace(SWITCHED, ORIGINAL) == FTU_APP.format(import_line=ORIGINAL)
    namespace: dict[str, Any] = {"__name__": "ftu_app", "sink": db_url}
    exec(compile(source, "ftu_app.py", "exec"), namespace)
    app, t = namespace["app"], namespace["t"]
    client = app.test_client()
    assert client.get("/").data == b"Hello"
    assert client.get("/other").data == b"Not included"
    events = read_events(t.tracker, db_url)
    assert [(e.path, e.props.get("optional")) for e in events] == [("/", "something")]
    t.tracker.close()


def test_example_module(examples_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOOTFALL_DB", db_url)
    sys.modules.pop("flask_track_usage_app", None)
    module = importlib.import_module("flask_track_usage_app")
    try:
        text = (examples_path / "flask_track_usage_app.py").read_text()
        assert "from flask_track_usage" not in text.replace("# was: from flask_track_usage", "")
        client = module.app.test_client()
        client.get("/")
        client.get("/untracked")
        (event,) = read_events(module.t.tracker, db_url)
        assert event.props["optional"] == "something"
        assert event.name == "pageview"  # Flask serves a str as text/html
    finally:
        module.t.tracker.close()
        sys.modules.pop("flask_track_usage_app", None)
