"""An app written for Flask-Track-Usage 2.0, switched by changing one import.

This is the usage example of Flask-Track-Usage 2.0's documentation with
its import line replaced; `sink` stands where its storages stood (any
footfall sink, store or store URL), here `$FOOTFALL_DB`.

    flask --app examples/flask_track_usage_app.py run    # on port 5000, or $FLASK_RUN_PORT
    python examples/flask_track_usage_app.py             # on port 5000, or $PORT
"""

from __future__ import annotations

import os

from flask import Flask, g

from footfall.integrations.flask import TrackUsage  # was: from flask_track_usage import TrackUsage

sink = os.environ.get("FOOTFALL_DB", "sqlite:///./footfall.db")

app = Flask(__name__)

# Set the configuration items manually for the example
app.config["TRACK_USAGE_USE_FREEGEOIP"] = False
app.config["TRACK_USAGE_INCLUDE_OR_EXCLUDE_VIEWS"] = "include"

t = TrackUsage(app, [sink])


# Include the view in the metrics
@t.include
@app.route("/")
def index() -> str:
    g.track_var["optional"] = "something"
    return "Hello"


@app.route("/untracked")
def untracked() -> str:
    return "not included, so not tracked"


if __name__ == "__main__":
    app.run(debug=True, port=int(os.environ.get("PORT", "5000")))
