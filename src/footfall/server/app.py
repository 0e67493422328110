"""The ASGI application behind `footfall serve`.

Route modules (collector, stats API, dashboard) each expose
`routes(state) -> list[BaseRoute]`; this module only assembles them, answers
`/health`, and closes the tracker (flushing queued events) on shutdown.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from footfall.delivery.shutdown import host_drains
from footfall.server.state import ServerState

__all__ = ["ROUTE_MODULES", "app_from_env", "create_app", "first_run_message"]

HEALTH_THREADS = 4  # concurrent /health store checks (is_writable)

# Order matters: the dashboard's catch-all `/{site}` must come last.
ROUTE_MODULES = [
    "footfall.collector.routes",
    "footfall.stats.api",
    "footfall.dashboard.routes",
]


async def health(request: Request) -> JSONResponse:
    state: ServerState = request.app.state.footfall
    # A store call blocks: in a worker thread, on threads of its own, so neither
    # the event loop nor busy stats or dashboard threads hold a health check up.
    limiter = state.extras.get("health.threads")
    if limiter is None:
        limiter = state.extras["health.threads"] = anyio.CapacityLimiter(HEALTH_THREADS)
    writable = await anyio.to_thread.run_sync(state.store.is_writable, limiter=limiter)
    body = {
        "status": "ok" if writable else "store not writable",
        "store_writable": writable,
        "queue_depth": state.tracker.worker.pending,
        "counters": vars(state.tracker.stats()),
    }
    # Route modules add their own figures (the stats API: queries running, waiting).
    for name, report in state.extras.get("health", {}).items():
        body[name] = report()
    return JSONResponse(body, status_code=200 if writable else 503)


def _module_routes(state: ServerState) -> tuple[list[BaseRoute], list[Middleware]]:
    routes: list[BaseRoute] = []
    middleware: list[Middleware] = []
    for name in ROUTE_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and name.startswith(exc.name):
                continue  # that part is not built yet
            raise
        routes.extend(module.routes(state))
        middleware.extend(getattr(module, "middleware", lambda s: [])(state))
    return routes, middleware


def create_app(db_url: str | None = None, *, schemas_dir: str | None = None) -> Starlette:
    """Build the server for the store at `db_url` (default: $FOOTFALL_DB)."""
    state = ServerState.from_url(db_url, schemas_dir)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        from footfall.server.catchup import start_catch_up

        # SIGTERM stays with the server (uvicorn's graceful shutdown), which ends
        # here in `state.close()`: the queue gets the whole drain time.
        with host_drains():
            # Compile the user-agent rules, crawler list and geo data before the first
            # request (~1 s of CPU, once per process): otherwise the first batches pay
            # for it on the delivery thread, under load, while the queue backs up.
            state.tracker.warm()
            catching_up = start_catch_up(state.store, state.tracker.worker)
            state.extras["footfall.server.catchup"] = catching_up
            yield
            if catching_up is not None:
                catching_up.stop()
            state.close()

    extra_routes, middleware = _module_routes(state)
    routes: list[BaseRoute] = [Route("/health", health), *extra_routes]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.footfall = state
    return app


def app_from_env() -> Starlette:
    """Factory for `uvicorn --factory` (and `--workers N`): config from env."""
    return create_app(os.environ.get("FOOTFALL_DB"), schemas_dir=os.environ.get("FOOTFALL_SCHEMAS"))


def first_run_message(db_url: str, host: str, port: int) -> str | None:
    """A one-time sign-up link when no dashboard user exists (filled in by auth)."""
    try:
        module: Any = importlib.import_module("footfall.dashboard.auth")
    except ModuleNotFoundError:
        return None
    fn = getattr(module, "first_run_message", None)
    return fn(db_url, host, port) if fn else None
