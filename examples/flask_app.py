"""A Flask app tracked by footfall's Flask extension.

    flask --app examples/flask_app.py run    # on port 5000, or $FLASK_RUN_PORT
    python examples/flask_app.py             # on port 8002, or $PORT

Events go to `$FOOTFALL_DB` (default `sqlite:///./footfall.db`); the
extension is `app.extensions["footfall"]`.

The extension has Flask-Track-Usage's surface (`TrackUsage(app, [storage])`,
`@t.include`, `g.track_var`); here in `exclude` mode: every view is tracked
except the ones marked `@t.exclude` or in an excluded blueprint.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Flask, Response, g, stream_with_context

from footfall.integrations.flask import TrackUsage
from footfall.stores import default_url

admin = Blueprint("admin", __name__, url_prefix="/admin")


@admin.route("/")
def admin_home() -> str:
    return "<h1>admin</h1>"


shop = Blueprint("shop", __name__, url_prefix="/shop")


@shop.route("/product/<int:product_id>")
def product(product_id: int) -> str:
    g.track_var["plan"] = "pro"
    return f"<h1>product {product_id}</h1>"


def create_app(store_url: str | None = None, **config: Any) -> Flask:
    """The app, writing to `store_url`; `flask --app` calls this factory with no arguments."""
    app = Flask(__name__)
    app.config["TRACK_USAGE_INCLUDE_OR_EXCLUDE_VIEWS"] = "exclude"
    app.config["FOOTFALL_SITE"] = "flask.example"
    app.config.update(config)
    t = TrackUsage(app, [store_url or default_url()])

    @app.route("/")
    def index() -> str:
        g.track_var["section"] = "home"
        return "<!doctype html><h1>Hello from Flask</h1>"

    @t.exclude
    @app.route("/healthz")
    def healthz() -> str:
        return "ok"

    @app.route("/stream")
    def stream() -> Response:
        def chunks() -> Iterator[str]:
            for i in range(5):
                yield f"chunk {i}\n"

        return Response(stream_with_context(chunks()), mimetype="text/plain")

    @app.route("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    app.register_blueprint(admin)
    app.register_blueprint(shop)
    t.exclude_blueprint(admin)
    return app


if __name__ == "__main__":
    create_app().run(port=int(os.environ.get("PORT", "8002")))
