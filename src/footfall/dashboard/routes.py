"""Dashboard routes and the session middleware, picked up by `footfall.server.app`.

The catch-all `/{site}` routes come last in the whole app (the server puts
this module's routes after the collector's and the stats API's) and refuse
the first path segments those use, so a site can never shadow `/api/*`,
`/js/*`, `/health` or `/static/*`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any, Protocol

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from footfall import settings
from footfall.dashboard.auth import Users
from footfall.dashboard.goals import GoalPages
from footfall.dashboard.login import LoginPages
from footfall.dashboard.pages import Pages
from footfall.dashboard.security import SessionMiddleware, harden
from footfall.dashboard.sites import SiteDirectory
from footfall.dashboard.templating import STATIC_PREFIX
from footfall.stores.base import Store

__all__ = ["RESERVED", "DashboardState", "middleware", "routes"]

# First path segments that belong to other parts of the server, never to a site.
RESERVED = frozenset(
    {"api", "js", "static", "health", "login", "logout", "setup", "failed", "favicon.ico", "i"}
)


Handler = Callable[[Request], Awaitable[Response]]


class DashboardState(Protocol):
    """What the dashboard needs of the server's state (`footfall.server.state.ServerState`).

    `extras` is where it keeps one `Users` and one `SiteDirectory` per server.
    """

    store: Store
    extras: dict[str, Any]


def _site_route(handler: Handler) -> Handler:
    """Refuse reserved first segments, so a site never answers for another part."""

    async def guarded(request: Request) -> Response:
        site = request.path_params["site"]
        if site in RESERVED or len(site) > 253:
            return harden(Response("Not Found", status_code=404, media_type="text/plain"))
        return await handler(request)

    return guarded


def _parts(state: DashboardState) -> tuple[Users, SiteDirectory]:
    """One Users and one SiteDirectory per server state (shared by routes and middleware)."""
    users = state.extras.get("dashboard.users")
    if not isinstance(users, Users):
        users = state.extras["dashboard.users"] = Users(state.store)
    sites = state.extras.get("dashboard.sites")
    if not isinstance(sites, SiteDirectory):
        sites = state.extras["dashboard.sites"] = SiteDirectory(state.store)
    return users, sites


def routes(state: DashboardState) -> list[BaseRoute]:
    users, sites = _parts(state)
    pages = Pages(sites, users)
    goals = GoalPages(sites)
    # The same proxy setting, and so the same client address, as the collector's.
    login = LoginPages(users, trusted_proxies=settings.TRUSTED_PROXIES())
    static_dir = resources.files("footfall.dashboard") / "static"
    return [
        Mount(STATIC_PREFIX, app=StaticFiles(directory=str(static_dir)), name="dashboard-static"),
        Route("/", pages.home, methods=["GET"]),
        Route("/login", login.login, methods=["GET", "POST"]),
        Route("/logout", login.logout, methods=["POST"]),
        Route("/setup", login.setup, methods=["GET", "POST"]),
        Route("/failed", pages.failed, methods=["GET"]),
        Route("/{site}/funnel", _site_route(pages.funnel), methods=["GET"]),
        Route("/{site}/funnels", _site_route(pages.saved.post_funnel), methods=["POST"]),
        Route("/{site}/annotations", _site_route(pages.saved.post_annotation), methods=["POST"]),
        Route("/{site}/goals", _site_route(goals.page), methods=["GET"]),
        Route("/{site}/goals", _site_route(goals.post), methods=["POST"]),
        Route("/{site}/export.csv", _site_route(pages.export), methods=["GET"]),
        Route("/{site}/export.zip", _site_route(pages.export_zip), methods=["GET"]),
        Route("/{site}", _site_route(pages.dashboard), methods=["GET"]),
    ]


def middleware(state: DashboardState) -> list[Middleware]:
    users, _ = _parts(state)
    return [Middleware(SessionMiddleware, users=users)]
