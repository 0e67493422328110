"""A FastAPI app tracked by footfall's ASGI middleware.

    uvicorn --factory examples.fastapi_app:create_app    # on port 8000, or $UVICORN_PORT
    python examples/fastapi_app.py                       # on port 8003, or $PORT

Events go to `$FOOTFALL_DB` (default `sqlite:///./footfall.db`).

Starlette's `AuthenticationMiddleware` puts the user in `scope["user"]`;
footfall records its identity as the event's `user_id`. Add footfall's
middleware last so it is the outermost and times everything.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    BaseUser,
    SimpleUser,
    UnauthenticatedUser,
)
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection

from footfall.integrations.asgi import FootfallMiddleware


class BearerUser(AuthenticationBackend):
    """Demo auth: `Authorization: Bearer <name>` logs in as <name> (never do this for real)."""

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser]:
        auth = conn.headers.get("authorization", "")
        if auth.startswith("Bearer ") and auth[7:].strip():
            return AuthCredentials(["authenticated"]), SimpleUser(auth[7:].strip())
        return AuthCredentials(), UnauthenticatedUser()


def create_app(store_url: str | None = None, **options: object) -> FastAPI:
    """The app with authentication and footfall, writing to `store_url`."""
    app = FastAPI()

    @app.get("/", response_class=HTMLResponse)
    async def index() -> str:
        return "<!doctype html><h1>Hello from FastAPI</h1>"

    @app.get("/items/{item_id}")
    async def item(item_id: int, request: Request) -> dict[str, object]:
        return {"item": item_id, "user": request.user.display_name}

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for i in range(5):
                yield f"chunk {i}\n".encode()

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    app.add_middleware(AuthenticationMiddleware, backend=BearerUser())
    url = store_url or os.environ.get("FOOTFALL_DB", "sqlite:///./footfall.db")
    app.add_middleware(FootfallMiddleware, sinks=[url], site="fastapi.example", **options)
    return app


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(create_app(), port=int(os.environ.get("PORT", "8003")))
