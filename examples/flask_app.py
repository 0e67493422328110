"""A Flask app tracked by footfall's Flask extension.

    flask --app examples/flask_app.py run       # or: python examples/flask_app.py

The extension has Flask-Track-Usage's surface (`TrackUsage(app, [storage])`,
`@t.include`, `g.track_var`); here in `exclude` mode: every view is tracked
except the ones marked `@t.exclude` or in an excluded blueprint.
"""

from __future__ import annotations

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


def create_app(store_url: str | None = None, **config: Any) -> tuple[Flask, TrackUsage]:
    """The app and its extension, writing to `store_url`."""
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
    return app, t


if __name__ == "__main__":
    create_app()[0].run(port=8002)
