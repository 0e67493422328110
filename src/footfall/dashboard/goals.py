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

import re
from dataclasses import replace
from urllib.parse import quote, urlencode

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from footfall.dashboard.forms import FormRefused, read_form
from footfall.dashboard.security import csrf_ok
from footfall.dashboard.sites import SiteDirectory
from footfall.dashboard.templating import render
from footfall.stats.errors import StatsError
from footfall.stats.properties import PROP_KEY
from footfall.stats.wildcard import parse_wildcard
from footfall.stores.meta import Meta, SavedGoal, goal_name, open_meta

__all__ = ["MAX_NAME", "MAX_VALUE", "GoalPages", "GoalRefused", "goal_from_form"]

MAX_NAME = 120
MAX_VALUE = 500
_CURRENCY = re.compile(r"^[A-Z]{3}$")
BAD_CSRF = "This form has expired or came from another page; go back, reload and try again."


class GoalRefused(ValueError):
    """A goal form that cannot be saved; the text says why."""


def _text(form: dict[str, str], name: str) -> str:
    value = form.get(name, "").strip()
    if len(value) > MAX_VALUE:
        raise GoalRefused(f"{name.replace('_', ' ')}: at most {MAX_VALUE} characters")
    return value


def goal_from_form(site: str, form: dict[str, str], taken: list[SavedGoal]) -> SavedGoal:
    """The goal a form describes (`kind` page or event), checked as `footfall goals add`
    checks it, and named as Plausible would when the form gives no name."""
    kind = form.get("kind", "")
    page, event = _text(form, "page"), _text(form, "event")
    key, value = _text(form, "prop_key"), form.get("prop_value", "")
    revenue, currency = _text(form, "revenue_prop"), _text(form, "currency").upper()
    if len(value) > MAX_VALUE:
        raise GoalRefused(f"property value: at most {MAX_VALUE} characters")
    if kind == "page":
        if not page.startswith("/"):
            raise GoalRefused("a page path starts with /")
        try:
            parse_wildcard(page, "page")
        except StatsError as exc:
            raise GoalRefused(f"page: {exc.message}") from None
        goal = SavedGoal(site=site, name="", page=page)
    elif kind == "event":
        if not event:
            raise GoalRefused("an event goal needs the event's name")
        for label, prop in (("property", key), ("revenue property", revenue)):
            if prop and not PROP_KEY.match(prop):
                raise GoalRefused(f"{label}: 1-100 letters, digits or _ . -")
        if not key:
            value = ""
        if bool(revenue) != bool(currency):
            raise GoalRefused("a revenue property and its currency go together")
        if currency and not _CURRENCY.match(currency):
            raise GoalRefused("currency: an ISO 4217 code such as EUR or USD")
        goal = SavedGoal(
            site=site,
            name="",
            event=event,
            prop_key=key,
            prop_value=value,
            revenue_prop=revenue,
            currency=currency,
        )
    else:
        raise GoalRefused("choose a page goal or an event goal")
    name = form.get("name", "").strip() or goal_name(goal, taken)
    if not 0 < len(name) <= MAX_NAME:
        raise GoalRefused(f"name: 1-{MAX_NAME} characters")
    return replace(goal, name=name)


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
