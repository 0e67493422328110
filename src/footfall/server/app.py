"""The ASGI application behind `footfall serve`.

Route modules (collector, stats API, dashboard) each expose
`routes(state) -> list[BaseRoute]`; this module only assembles them, answers
`/health` and `/api/docs` (the OpenAPI document of all of them), and closes
the tracker (flushing queued events) on shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from footfall.collector import routes as collector_routes
from footfall.dashboard import routes as dashboard_routes
from footfall.delivery.shutdown import host_drains
from footfall.reports import routes as report_routes
from footfall.reports.alert_loop import EXTRAS_KEY as ALERTS_KEY
from footfall.reports.alert_loop import start_alert_loop
from footfall.reports.schedule import EXTRAS_KEY as REPORTS_KEY
from footfall.reports.schedule import start_report_schedule
from footfall.server.openapi import openapi_document
from footfall.server.state import ServerState
from footfall.stats import api as stats_api
from footfall.stats.summaries.thread import EXTRAS_KEY as CATCH_UP_KEY
from footfall.stats.summaries.thread import start_catch_up

__all__ = ["app_from_env", "create_app"]

HEALTH_THREADS = 4  # concurrent /health store checks (is_writable)


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


async def docs(request: Request) -> JSONResponse:
    return JSONResponse(openapi_document())


def _module_routes(state: ServerState) -> tuple[list[BaseRoute], list[Middleware]]:
    routes: list[BaseRoute] = [
        *collector_routes.routes(state),
        *stats_api.routes(state),
        *report_routes.routes(state),
        *dashboard_routes.routes(state),  # last: its catch-all `/{site}` matches anything
    ]
    return routes, dashboard_routes.middleware(state)


def create_app(
    db_url: str | None = None, *, schemas_dir: str | None = None, meta_url: str | None = None
) -> Starlette:
    """Build the server for the store at `db_url` (default: $FOOTFALL_DB), its
    metadata in `meta_url` (default: $FOOTFALL_META_DB, else the same store)."""
    state = ServerState.from_url(db_url, schemas_dir, meta_url)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # SIGTERM stays with the server (uvicorn's graceful shutdown), which ends
        # here in `state.close()`: the queue gets the whole drain time.
        with host_drains():
            # Compile the user-agent rules, crawler list and geo data before the first
            # request (~1 s of CPU, once per process): otherwise the first batches pay
            # for it on the delivery thread, under load, while the queue backs up.
            state.tracker.warm()
            catching_up = start_catch_up(state.store, state.tracker.worker)
            state.extras[CATCH_UP_KEY] = catching_up
            alerting = state.extras[ALERTS_KEY] = start_alert_loop(state.store)
            reporting = state.extras[REPORTS_KEY] = start_report_schedule(state.store)
            yield
            if alerting is not None:
                alerting.stop()
            if reporting is not None:
                reporting.stop()
            if catching_up is not None:
                catching_up.stop()
            state.close()

    extra_routes, middleware = _module_routes(state)
    routes: list[BaseRoute] = [Route("/health", health), Route("/api/docs", docs), *extra_routes]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.footfall = state
    return app


def app_from_env() -> Starlette:
    """Factory for `uvicorn --factory` (and `--workers N`): config from env."""
    return create_app()  # the store and schemas from $FOOTFALL_DB and $FOOTFALL_SCHEMAS
