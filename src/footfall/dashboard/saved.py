"""Annotations on the chart and saved funnels: what a dashboard user keeps per site.

Both live in the metadata store (`Meta.add_annotation`, `Meta.add_funnel`,
...). Anyone who may read a site sees them; only logged-in users change them,
through POST forms that carry the CSRF token (`security.csrf_ok`), are read
within the form limits (`forms.read_form`) and answer with a redirect back to
the same view. Annotation text and funnel names are the users' own words, so
they are stored as given and escaped where shown (Jinja2 autoescape, and
`textContent` in the scripts).

A funnel's steps are picked from lists, never typed: the site's saved goals
that a step can express (a page goal, or an event goal without a property
match), and the pages and custom events of the period, each turned into the
step expression `footfall.stats.funnel` reads.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import quote

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from footfall.dashboard.export import call_api
from footfall.dashboard.forms import FormRefused, read_form
from footfall.dashboard.panels import PROPERTY_PARAM
from footfall.dashboard.security import csrf_ok
from footfall.dashboard.sites import SiteDirectory
from footfall.dashboard.templating import render
from footfall.dashboard.view import View, parse_view
from footfall.errors import ValidationError
from footfall.stats.errors import StatsError
from footfall.stats.funnel import MAX_STEPS, parse_steps
from footfall.stats.model import resolve_period, zone
from footfall.stores.meta import Annotation, Meta, SavedFunnel, open_meta

__all__ = ["Saved", "StepChoice"]

log = logging.getLogger("footfall.dashboard")

OPTION_ROWS = 30  # pages and events offered as steps: the period's top ones
BAD_CSRF = "This form has expired or came from another page; go back, reload and try again."
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
SKIPPED_EVENTS = ("pageview", "request")


@dataclass(frozen=True)
class StepChoice:
    """One option of a step's select: what the user reads, and the step expression sent."""

    group: str  # "Goals", "Pages" or "Events"
    label: str
    value: str


def _user(request: Request) -> str | None:
    user = getattr(request.state, "footfall_user", None)
    return user if isinstance(user, str) and user else None


def _expressible(value: object) -> bool:
    """Whether `value` fits in one `==` condition (the filter syntax splits on `;` and `|`)."""
    return isinstance(value, str) and 0 < len(value) <= 300 and not any(c in value for c in ";|")


def _message(request: Request, status: int, title: str, text: str) -> Response:
    return render(request, "message.html", status, title=title, text=text)


class Saved:
    """Reads and changes a site's annotations and saved funnels for the pages."""

    def __init__(self, sites: SiteDirectory) -> None:
        self.sites = sites

    def _meta(self) -> Meta | None:
        try:
            return open_meta(self.sites.store)
        except NotImplementedError:
            return None

    # -- reads (run in a worker thread) --------------------------------------
    def days(self, site: str, view: View) -> tuple[date, date]:
        """The local days the view covers, in the site's time zone."""
        info = self.sites.get(site)
        today = datetime.now(zone(info.timezone if info else "UTC")).date()
        try:
            return resolve_period(view.period, view.date or None, today)
        except StatsError:
            return today, today

    def annotations(self, site: str, view: View) -> list[Annotation]:
        """The annotations of the days the view shows (none when the store keeps none)."""
        meta = self._meta()
        if meta is None:
            return []
        first, last = self.days(site, view)
        try:
            return meta.list_annotations(site, first, last)
        except Exception as exc:
            log.warning("footfall: could not read the annotations: %s", exc, exc_info=exc)
            return []

    def funnels(self, site: str) -> list[SavedFunnel]:
        meta = self._meta()
        return [] if meta is None else meta.list_funnels(site)

    def funnel(self, site: str, name: str) -> SavedFunnel | None:
        meta = self._meta()
        return None if meta is None else meta.get_funnel(site, name)

    def goal_choices(self, site: str) -> list[StepChoice]:
        """The site's goals that one funnel step can express."""
        meta = self._meta()
        if meta is None:
            return []
        out: list[StepChoice] = []
        for goal in meta.list_goals(site):
            if goal.page and _expressible(goal.page):
                out.append(StepChoice("Goals", goal.name, f"event:page=={goal.page}"))
            elif goal.event and not goal.prop_key and _expressible(goal.event):
                out.append(StepChoice("Goals", goal.name, f"event:name=={goal.event}"))
        return out

    async def step_choices(self, request: Request, site: str, view: View) -> list[StepChoice]:
        """Goals, then the period's top pages and custom events, as step options."""
        choices = await anyio.to_thread.run_sync(self.goal_choices, site)
        taken = {c.value for c in choices}  # a page that is a goal is offered as the goal
        base = [("site_id", site), *((k, v) for k, v in view.params() if k in ("period", "date"))]
        for prop, key, group, op in (
            ("event:page", "page", "Pages", "event:page=="),
            ("event:name", "name", "Events", "event:name=="),
        ):
            params = [
                *base,
                ("property", prop),
                ("metrics", "visitors"),
                ("limit", str(OPTION_ROWS)),
            ]
            status, body = await call_api(request, "breakdown", params)
            rows = body.get("results") if status == 200 and isinstance(body, dict) else None
            for row in rows if isinstance(rows, list) else []:
                value = row.get(key) if isinstance(row, dict) else None
                step = f"{op}{value}"
                if _expressible(value) and value not in SKIPPED_EVENTS and step not in taken:
                    choices.append(StepChoice(group, str(value), step))
                    taken.add(step)
        return choices

    # -- changes (POST forms) ------------------------------------------------
    async def _form(self, request: Request) -> tuple[dict[str, str] | None, Response | None]:
        """The checked form of a logged-in user who may read the site, or the refusal."""
        site = request.path_params["site"]
        user = _user(request)
        readable = await anyio.to_thread.run_sync(self.sites.readable, site, user)
        if not user:
            if readable:
                return None, _message(request, 403, "Log in first", "Log in to change this site.")
            return None, _message(request, 404, "Not found", "No such site.")
        if not readable:
            return None, _message(request, 404, "Not found", "No such site.")
        try:
            form = await read_form(request)
        except FormRefused as exc:
            return None, _message(request, exc.status, "Refused", exc.reason)
        if not csrf_ok(request, form.get("csrf")):
            return None, _message(request, 403, "Refused", BAD_CSRF)
        return form, None

    async def post_annotation(self, request: Request) -> Response:
        """`POST /<site>/annotations`: `action=add` (day, text) or `action=remove` (id).

        The form also carries the view (`period`, `date`, `filters`) to return to.
        """
        form, refused = await self._form(request)
        if form is None:
            return refused or _message(request, 400, "Refused", "No form.")
        site = request.path_params["site"]
        meta = self._meta()
        if meta is None:
            return _message(request, 501, "Not kept", "This store keeps no annotations.")
        action = form.get("action", "")
        if action == "add":
            try:
                day = date.fromisoformat(form.get("day", "").strip())
            except ValueError:
                return _message(request, 400, "Refused", "The date must be YYYY-MM-DD.")
            if not FIRST_DAY <= day <= LAST_DAY:
                return _message(
                    request, 400, "Refused", f"The date must be in {FIRST_DAY}..{LAST_DAY}."
                )
            try:
                await anyio.to_thread.run_sync(meta.add_annotation, site, day, form.get("text", ""))
            except ValidationError as exc:
                return _message(request, 400, "Refused", f"Annotation {exc.field}: {exc.reason}.")
        elif action == "remove":
            try:
                note_id = int(form.get("id", ""))
            except ValueError:
                return _message(request, 400, "Refused", "No annotation given.")
            if not await anyio.to_thread.run_sync(meta.remove_annotation, site, note_id):
                return _message(request, 404, "Not found", "No such annotation.")
        else:
            return _message(request, 400, "Refused", "Unknown action.")
        view = parse_view(form)
        prop = form.get(PROPERTY_PARAM, "")[:200]  # the Properties panel's key, kept too
        extra = ((PROPERTY_PARAM, prop),) if prop else ()
        return RedirectResponse(
            f"/{quote(site, safe='')}{view.query(extra=extra)}", status_code=303
        )

    async def post_funnel(self, request: Request) -> Response:
        """`POST /<site>/funnels`: `action=save` (name, step1..stepN) or `action=remove` (name)."""
        form, refused = await self._form(request)
        if form is None:
            return refused or _message(request, 400, "Refused", "No form.")
        site = request.path_params["site"]
        meta = self._meta()
        if meta is None:
            return _message(request, 501, "Not kept", "This store keeps no saved funnels.")
        view = parse_view(form)
        name = form.get("name", "").strip()
        back = f"/{quote(site, safe='')}/funnel"
        action = form.get("action", "")
        if action == "save":
            steps = [form.get(f"step{i}", "").strip() for i in range(1, MAX_STEPS + 1)]
            steps = [s for s in steps if s]
            try:
                parse_steps(steps)
                saved = await anyio.to_thread.run_sync(meta.add_funnel, site, name, steps)
            except StatsError as exc:
                return _message(request, 400, "Refused", f"Funnel steps: {exc.message}.")
            except ValidationError as exc:
                return _message(request, 400, "Refused", f"Funnel {exc.field}: {exc.reason}.")
            if saved is None:
                return _message(request, 409, "Name taken", "This site has a funnel of that name.")
            return RedirectResponse(
                back + view.query(extra=(("name", saved.name),)), status_code=303
            )
        if action == "remove":
            if not await anyio.to_thread.run_sync(meta.remove_funnel, site, name):
                return _message(request, 404, "Not found", "No such funnel.")
            return RedirectResponse(back + view.query(), status_code=303)
        return _message(request, 400, "Refused", "Unknown action.")
