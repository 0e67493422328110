"""The goals page: a site's saved goals, listed, added and removed from the dashboard.

What `footfall goals add|list|remove` does, for the users who manage a site
(`SiteDirectory.manageable`: logged in; anonymous readers of a public site
see the Goals panel, never this page). Changes are POST forms carrying the
CSRF token (`security.csrf_ok`), read within the form limits
(`forms.read_form`), checked here with the CLI's rules, and answered with a
redirect back to the page. Goal names, pages, event names and property
values are the users' own text: stored as given, escaped where shown.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from footfall.dashboard.forms import FormRefused, read_form
from footfall.dashboard.security import csrf_ok
from footfall.dashboard.sites import SiteDirectory
from footfall.dashboard.templating import render
from footfall.stats.goal_rules import MAX_NAME, MAX_VALUE, GoalRefused, new_goal
from footfall.stores.meta import Meta, SavedGoal, open_meta

__all__ = ["MAX_NAME", "MAX_VALUE", "GoalPages", "GoalRefused", "goal_from_form"]

BAD_CSRF = "This form has expired or came from another page; go back, reload and try again."
_LABELS = {"prop": "property", "revenue_prop": "revenue property", "kind": "goal"}


def goal_from_form(site: str, form: dict[str, str], taken: list[SavedGoal]) -> SavedGoal:
    """The goal a form describes (`kind` page or event), checked by the rules
    `footfall goals add` uses, and named as Plausible would when the form gives no name."""
    kind = form.get("kind", "")
    if kind not in ("page", "event"):
        raise GoalRefused("kind", "choose a page goal or an event goal")
    fields = {k: form.get(k, "") for k in ("page", "event", "prop_key", "prop_value")}
    if kind == "page":
        fields["event"] = ""
    else:
        fields["page"] = ""
    try:
        return new_goal(
            site,
            page=fields["page"],
            event=fields["event"],
            prop_key=fields["prop_key"] if kind == "event" else "",
            prop_value=fields["prop_value"] if kind == "event" else "",
            revenue_prop=form.get("revenue_prop", "") if kind == "event" else "",
            currency=form.get("currency", "") if kind == "event" else "",
            name=form.get("name", ""),
            taken=taken,
        )
    except GoalRefused as exc:
        label = _LABELS.get(exc.field, exc.field)
        raise GoalRefused(exc.field, f"{label}: {exc.message}") from None


def _user(request: Request) -> str | None:
    user = getattr(request.state, "footfall_user", None)
    return user if isinstance(user, str) and user else None


def _message(request: Request, status: int, title: str, text: str) -> Response:
    return render(request, "message.html", status, title=title, text=text)


class GoalPages:
    """`GET /<site>/goals` and `POST /<site>/goals` (action=add or remove)."""

    def __init__(self, sites: SiteDirectory) -> None:
        self.sites = sites

    def _meta(self) -> Meta | None:
        try:
            return open_meta(self.sites.store)
        except NotImplementedError:
            return None

    async def _refused(self, request: Request, site: str) -> Response | None:
        """Why this viewer may not manage `site` (None when they may)."""
        user = _user(request)
        if await anyio.to_thread.run_sync(self.sites.manageable, site, user):
            return None
        if user:
            return _message(request, 404, "Not found", "No such site.")
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method == "GET":
            return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)
        return _message(request, 403, "Log in first", "Log in to change this site's goals.")

    async def page(self, request: Request) -> Response:
        site = request.path_params["site"]
        refused = await self._refused(request, site)
        if refused:
            return refused
        goals = await anyio.to_thread.run_sync(self.sites.goals, site)
        info = self.sites.get(site)
        return render(
            request,
            "goals.html",
            site=site,
            site_path=quote(site, safe=""),
            goals=goals,
            registered=bool(info and info.registered),
            kept=self._meta() is not None,
            # Only a goal that exists: the URL's text is never shown as the page's own.
            added=next((g.name for g in goals if g.name == request.query_params.get("added")), ""),
        )

    async def post(self, request: Request) -> Response:
        site = request.path_params["site"]
        refused = await self._refused(request, site)
        if refused:
            return refused
        try:
            form = await read_form(request)
        except FormRefused as exc:
            return _message(request, exc.status, "Refused", exc.reason)
        if not csrf_ok(request, form.get("csrf")):
            return _message(request, 403, "Refused", BAD_CSRF)
        meta = self._meta()
        if meta is None:
            return _message(request, 501, "Not kept", "This store keeps no goals.")
        back = f"/{quote(site, safe='')}/goals"
        action = form.get("action", "")
        if action == "add":
            info = self.sites.get(site)
            if not (info and info.registered):
                text = f"Register the site first: footfall sites add {site}"
                return _message(request, 409, "Not registered", text)
            taken = await anyio.to_thread.run_sync(meta.list_goals, site)
            try:
                goal = goal_from_form(site, form, taken)
            except GoalRefused as exc:
                return _message(request, 400, "Refused", f"Goal {exc}.")
            stored = await anyio.to_thread.run_sync(meta.add_goal, goal)
            if stored is None:
                text = "This site has a goal of that name; choose another name."
                return _message(request, 409, "Name taken", text)
            return RedirectResponse(back + "?" + urlencode({"added": stored.name}), 303)
        if action == "remove":
            name = form.get("name", "")[:MAX_NAME]
            if not await anyio.to_thread.run_sync(meta.remove_goal, site, name):
                return _message(request, 404, "Not found", "No such goal.")
            return RedirectResponse(back, status_code=303)
        return _message(request, 400, "Refused", "Unknown action.")
