"""The dashboard's pages: site list, site dashboard, funnel, failed events, CSV.

Pages are shells: they carry the view (period, filters, comparison) and the
panel layout; `static/dashboard.js` fetches the numbers from the stats API
with the viewer's own session cookie and writes them in as text.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import quote, urlencode

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from footfall.dashboard.auth import Users
from footfall.dashboard.export import ENDPOINTS, PASSED_PARAMS, call_api, export_error, to_csv
from footfall.dashboard.export_zip import parts, stream_zip, zip_name
from footfall.dashboard.layout import site_layout
from footfall.dashboard.panels import PROPERTY_PARAM, SERVER_PANELS
from footfall.dashboard.saved import Saved
from footfall.dashboard.security import harden
from footfall.dashboard.sites import SiteDirectory
from footfall.dashboard.templating import render
from footfall.dashboard.view import PERIODS, View, interval_for, parse_view
from footfall.stats.imported import imported_ranges

__all__ = ["Pages"]

MAX_STEPS = 8
MAX_STEP_LEN = 300


def _user(request: Request) -> str | None:
    user = getattr(request.state, "footfall_user", None)
    return user if isinstance(user, str) and user else None


def _viewer_view(request: Request) -> View:
    """The URL's view, less what this viewer may not filter by (people, when anonymous)."""
    view = parse_view(request.query_params)
    return view if _user(request) else view.for_anonymous()


def _to_login(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)


class Pages:
    """Page handlers bound to one store's sites and users."""

    def __init__(self, sites: SiteDirectory, users: Users) -> None:
        self.sites = sites
        self.users = users
        self.saved = Saved(sites)

    def _denied(self, request: Request, site: str) -> Response | None:
        """A 404 for a user, a login redirect for anyone else (hiding which sites exist)."""
        user = _user(request)
        if self.sites.readable(site, user):
            return None
        if user:  # logged in: the site does not exist
            return render(request, "message.html", 404, title="Not found", text="No such site.")
        return _to_login(request)

    async def home(self, request: Request) -> Response:
        user = _user(request)
        visible = await anyio.to_thread.run_sync(self.sites.visible, user)
        if not user and not visible:
            return _to_login(request)
        if not user and len(visible) == 1:
            # One public site (as after `make run`): open its dashboard at once.
            return RedirectResponse("/" + quote(visible[0].domain, safe=""), status_code=303)
        return render(request, "sites.html", sites=visible)

    async def dashboard(self, request: Request) -> Response:
        site = request.path_params["site"]
        denied = await anyio.to_thread.run_sync(self._denied, request, site)
        if denied:
            return denied
        chosen = request.query_params.get(PROPERTY_PARAM, "")[:100]
        layout = await anyio.to_thread.run_sync(
            site_layout, self.sites, site, _viewer_view(request), chosen
        )
        view = layout.view
        days = await anyio.to_thread.run_sync(self.saved.days, site, view)
        imports = await anyio.to_thread.run_sync(imported_ranges, self.sites.store, site)
        return render(
            request,
            "dashboard.html",
            site=site,
            site_path=quote(site, safe=""),
            view=view,
            periods=PERIODS,
            interval=interval_for(view),
            panels=layout.panels,
            previous=layout.previous,
            property_param=PROPERTY_PARAM,
            server_panels=SERVER_PANELS,
            annotations=await anyio.to_thread.run_sync(self.saved.annotations, site, view),
            days=days,
            messages=list(view.errors),
            # only the imports the view's days reach: the others add nothing to its figures
            imports=[r for r in imports if r.first <= days[1] and r.last >= days[0]],
        )

    async def funnel(self, request: Request) -> Response:
        site = request.path_params["site"]
        denied = await anyio.to_thread.run_sync(self._denied, request, site)
        if denied:
            return denied
        view = _viewer_view(request)
        messages = list(view.errors)
        name = request.query_params.get("name", "")[:200]
        chosen = await anyio.to_thread.run_sync(self.saved.funnel, site, name) if name else None
        if chosen is not None:
            steps = list(chosen.steps)
            view = replace(view, extra=(("name", chosen.name),))
        else:
            if name:
                messages.append(f"no saved funnel called {name[:80]!r}")
            steps = [
                s.strip()[:MAX_STEP_LEN]
                for s in request.query_params.getlist("step")[:MAX_STEPS]
                if s.strip()
            ]
            view = replace(view, extra=tuple(("step", s) for s in steps))
        choices = await self.saved.step_choices(request, site, view)
        known = {c.value for c in choices}
        inputs = steps + [""] * max(0, 3 - len(steps))
        return render(
            request,
            "funnel.html",
            site=site,
            site_path=quote(site, safe=""),
            view=view,
            periods=PERIODS,
            steps=steps,
            inputs=inputs,
            choices=choices,
            unknown=[s for s in steps if s not in known],
            saved=await anyio.to_thread.run_sync(self.saved.funnels, site),
            chosen=chosen,
            max_steps=MAX_STEPS,
            messages=messages,
        )

    async def failed(self, request: Request) -> Response:
        user = _user(request)
        if not user:
            return _to_login(request)
        site = request.query_params.get("site", "")[:300]
        rows = await anyio.to_thread.run_sync(self.sites.failed, site or None)
        rows = list(reversed(rows))  # newest first
        return render(request, "failed.html", rows=rows, site=site)

    async def export(self, request: Request) -> Response:
        """`/<site>/export.csv?endpoint=breakdown&property=...`: a panel as CSV."""
        site = request.path_params["site"]
        denied = await anyio.to_thread.run_sync(self._denied, request, site)
        if denied:
            return denied
        endpoint = request.query_params.get("endpoint", "breakdown")
        if endpoint not in ENDPOINTS:
            return export_error(f"endpoint must be one of {', '.join(ENDPOINTS)}", 400)
        params = [("site_id", site)]
        for name in PASSED_PARAMS:
            value = request.query_params.get(name)
            if value:
                params.append((name, value[:4000]))
        if endpoint == "breakdown" and not request.query_params.get("limit"):
            params.append(("limit", "1000"))
        params.extend(("step", s[:MAX_STEP_LEN]) for s in request.query_params.getlist("step")[:8])
        status, body = await call_api(request, endpoint, params)
        if status != 200:
            reason = body.get("error") if isinstance(body, dict) else None
            return export_error(f"stats API answered {status}: {reason or ''}", status)
        prop = request.query_params.get("property", "")
        stem = "-".join(p for p in (site, endpoint, prop.rsplit(":", 1)[-1]) if p)
        filename = "".join(c if c.isalnum() or c in ".-_" else "_" for c in stem)[:120]
        response = Response(
            to_csv(endpoint, body),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
        )
        return harden(response)

    async def export_zip(self, request: Request) -> Response:
        """`/<site>/export.zip?period=...`: every CSV of the page's panels in one zip."""
        site = request.path_params["site"]
        denied = await anyio.to_thread.run_sync(self._denied, request, site)
        if denied:
            return denied
        chosen = request.query_params.get(PROPERTY_PARAM, "")[:100]
        layout = await anyio.to_thread.run_sync(
            site_layout, self.sites, site, _viewer_view(request), chosen
        )
        view = layout.view
        wanted = parts([*layout.panels, *SERVER_PANELS], view, interval_for(view))
        response = StreamingResponse(
            stream_zip(request, site, wanted),
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{zip_name(site, view)}.zip"'},
        )
        return harden(response)
