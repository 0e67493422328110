"""The stats HTTP API in the shape of Plausible's Stats API v1.

    GET /api/v1/stats/aggregate    ?site_id&period&date&metrics&filters&compare
    GET /api/v1/stats/timeseries   ?site_id&period&date&metrics&filters&interval
    GET /api/v1/stats/breakdown    ?site_id&period&date&metrics&filters&property&limit&page
    GET /api/v1/stats/realtime/visitors?site_id            -> a bare integer
    GET /api/v1/stats/realtime/pages?site_id               -> pages of current visits
    GET /api/v1/stats/funnel       ?site_id&period&date&step=...&step=...

`with_imported=true` (aggregate, timeseries, breakdown; default false, as in
Plausible's API v1) adds the data imported from Plausible or GA4
(`footfall.stats.imported`); the answer then carries `meta.imports_included`,
and a `warning` where the query's filters or breakdown keep them out.

Who may read a site: a bearer token for that site (or for every site), a
logged-in dashboard user (`request.state.footfall_user`, set by the
dashboard's session middleware), or anyone when the site is public. A valid
token for another site gets 403; a missing or unknown token 401. A valid
token naming a site that is neither registered nor has events gets 404
"unknown site" (an anonymous reader gets the 401: it learns no names). Bad
parameters get 400 with a message naming the parameter. Queries run off the
event loop, a few at a time, each within a time budget (`footfall.stats.guard`):
over the budget, or with no free slot, the answer is 503 with the reason. A
store that fails to read the site's settings or the tokens is a 503 too,
never a 401 or a private site.

Anonymous readers of a public site see counts, never who: a breakdown or a
filter by a property that names a person (`visit:user_id`) gets 401 unless
the request carries a token or a dashboard login.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Protocol

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from footfall.stats.engine import aggregate, breakdown, timeseries
from footfall.stats.errors import StatsError, StatsUnavailable
from footfall.stats.funnel import funnel
from footfall.stats.guard import Busy, guard_for, overload_response
from footfall.stats.imported import SOME_GOALS, SOME_GOALS_WARNING, why_excluded
from footfall.stats.imported import WARNING as IMPORTS_WARNING
from footfall.stats.model import Query, build_query
from footfall.stats.realtime import current_pages, realtime_visitors
from footfall.stats.sites import (
    first_seen,
    needs_goals,
    site_goals,
    site_info,
    site_known,
    token_allows,
)
from footfall.stats.summaries.catchup import CatchingUp
from footfall.stores.base import Store
from footfall.stores.budget import QueryTimeout

__all__ = ["StatsState", "authorize", "changes", "routes"]

_HEADERS = {"Cache-Control": "no-store"}
MAX_PARAM = 4_000


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=_HEADERS)


def _param(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    if value is not None and len(value) > MAX_PARAM:
        raise StatsError(name, f"longer than {MAX_PARAM} characters")
    return value


def _flag(request: Request, name: str) -> bool:
    """A true/false parameter (absent: false)."""
    value = (_param(request, name) or "false").lower()
    if value not in ("true", "false"):
        raise StatsError(name, f"{name} is true or false")
    return value == "true"


def _imports_note(q: Query, body: dict[str, Any]) -> dict[str, Any]:
    """With `with_imported=true`, whether the imported data are in the answer, as
    Plausible says it: a `warning` when they are not, and `meta`."""
    if q.with_imported:
        reason = why_excluded(q)
        included = reason in ("", SOME_GOALS)  # SOME_GOALS: in the goals that can take them
        body["meta"] = {"imports_included": included, "imports_skip_reason": reason or None}
        if reason:
            body["warning"] = SOME_GOALS_WARNING if included else IMPORTS_WARNING
    return body


def authorize(store: Any, request: Request, site: str) -> None:
    """Raise StatsError(401/403/404) unless the request may read `site`."""
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise StatsError("Authorization", "expected `Bearer <token>`", 401)
        allowed = token_allows(store, secret.strip(), site)
        if allowed is None:
            raise StatsError("Authorization", "invalid API token", 401)
        if not site_known(store, site):
            raise StatsError(
                "site_id", f"unknown site {site!r}: not registered and no events by that name", 404
            )
        if not allowed:
            raise StatsError("Authorization", f"this token cannot read site {site!r}", 403)
        return
    if getattr(request.state, "footfall_user", None):
        return
    if site_info(store, site).public:
        return
    raise StatsError("Authorization", "an API token is required (Authorization: Bearer ...)", 401)


def _identified(request: Request) -> bool:
    """Whether the reader is known: a token (already checked by `authorize`, which
    runs before every handler) or a dashboard login, not an anonymous visitor."""
    return bool(request.headers.get("authorization")) or bool(
        getattr(request.state, "footfall_user", None)
    )


def _refuse_identities(q: Query) -> None:
    """401 for an anonymous query that breaks down or filters by a person's id."""
    found = q.identifying()
    if found:
        param, name = found[0]
        raise StatsError(
            param,
            f"{name} identifies people: it needs an API token (Authorization: Bearer ...)"
            " or a dashboard login, even on a public site",
            401,
        )


def _query(store: Any, request: Request, site: str, **overrides: Any) -> Query:
    info = site_info(store, site)
    period = _param(request, "period") or "30d"
    params: dict[str, Any] = {
        "period": period,
        "date": _param(request, "date"),
        "metrics": _param(request, "metrics"),
        "filters": _param(request, "filters"),
        "property": _param(request, "property"),
        "interval": _param(request, "interval"),
        "limit": _param(request, "limit"),
        "page": _param(request, "page"),
        "with_imported": _flag(request, "with_imported"),
    }
    params.update(overrides)
    if period == "all":
        params["first_seen"] = first_seen(store, site)
    if needs_goals(params["filters"], params["property"]):
        params["goals"] = site_goals(store, site)  # once per request: `q` carries them
    q = build_query(site, tz=info.timezone, **params)
    if not _identified(request):
        _refuse_identities(q)
    return q


# Rates change in percentage points (like Plausible); the rest in percent.
_POINT_METRICS = ("bounce_rate", "conversion_rate", "error_rate")
# What each rate is taken over: with none of it before, there is nothing to compare.
_RATE_BASE = {
    "bounce_rate": "visits",
    "visit_duration": "visits",
    "views_per_visit": "visits",
    "error_rate": "requests",
    "conversion_rate": "visitors",  # visitors without the goal filter
}


def _change(metric: str, now: Any, before: Any, base: Any = None) -> Any:
    """The change against the previous period, or None when that period has nothing to
    compare with.

    `base` is the previous period's count a rate is taken over (None for counts).
    A count growing from zero, or a rate over no visits, has no honest figure:
    "+100 %" or "+50 pp" would invent one, so the answer is null (the dashboard
    shows "new"), as Plausible answers for a bounce rate after an empty period.
    """
    if isinstance(now, dict) or isinstance(before, dict):  # revenue: {"value", "currency"}
        now = now.get("value") if isinstance(now, dict) else now
        before = before.get("value") if isinstance(before, dict) else before
    if now is None or before is None:
        return None
    if metric in _RATE_BASE and not base:
        return None
    if metric in _POINT_METRICS:
        return round(now - before, 1)
    if not before:
        return None
    return round(100 * (now - before) / before)


def _rate_bases(store: Any, q: Query, before: dict[str, Any]) -> dict[str, Any]:
    """The previous period's visits, requests and goal-less visitors that `q`'s rates need."""
    wanted = {_RATE_BASE[m] for m in q.metrics if m in _RATE_BASE}
    counts = sorted(wanted & {"visits", "requests"})  # with the goal, as the rates are
    bases = {m: before[m] for m in counts if m in before}
    missing = tuple(m for m in counts if m not in before)
    if missing:  # the dashboard asks for visits and requests anyway: usually no query
        bases.update(aggregate(store, replace(q, metrics=missing)))
    if "visitors" in wanted:
        total = aggregate(store, replace(q.without_goal(), metrics=("visitors",)))
        bases["visitors"] = total["visitors"]
    return bases


def changes(
    store: Any, q: Query, values: dict[str, Any], previous: Query | None = None
) -> dict[str, Any]:
    """Each metric's change from `previous` (default: the period just before `q`) to
    `values`, as `compare=previous_period` answers it: percent for counts,
    points for rates, None where there is nothing to compare with (`_change`).
    The email reports call it too, so a report and the API agree."""
    previous = previous or q.previous()
    before = aggregate(store, previous)
    bases = _rate_bases(store, previous, before)
    return {
        m: _change(m, v, before.get(m), bases.get(_RATE_BASE[m]) if m in _RATE_BASE else None)
        for m, v in values.items()
    }


def _aggregate(store: Any, request: Request, site: str) -> dict[str, Any]:
    q = _query(store, request, site, property=None)
    values = aggregate(store, q)
    compare = _param(request, "compare")
    if compare not in (None, "", "previous_period"):
        raise StatsError("compare", "only compare=previous_period is supported")
    results: dict[str, Any] = {m: {"value": v} for m, v in values.items()}
    if compare:
        for m, change in changes(store, q, values).items():
            results[m]["change"] = change
    return _imports_note(q, {"results": results})


def _timeseries(store: Any, request: Request, site: str) -> dict[str, Any]:
    q = _query(store, request, site, property=None)
    return _imports_note(q, {"results": timeseries(store, q)})


def _breakdown(store: Any, request: Request, site: str) -> dict[str, Any]:
    if not _param(request, "property"):
        raise StatsError("property", "property is required (e.g. event:page)")
    q = _query(store, request, site)
    return _imports_note(q, {"results": breakdown(store, q)})


def _realtime(store: Any, request: Request, site: str) -> int:
    return realtime_visitors(store, site)


def _pages(store: Any, request: Request, site: str) -> dict[str, Any]:
    return {"results": current_pages(store, site)}


def _funnel(store: Any, request: Request, site: str) -> dict[str, Any]:
    steps = request.query_params.getlist("step")
    if any(len(s) > MAX_PARAM for s in steps):
        raise StatsError("step", f"longer than {MAX_PARAM} characters")
    q = _query(store, request, site, property=None, metrics="visitors", filters=None)
    return {"results": funnel(store, q, steps)}


class StatsState(Protocol):
    """What the stats routes need of the server's state (`footfall.server.state.ServerState`).

    `extras` is where the routes keep their query guard, per server.
    """

    store: Store
    extras: dict[str, Any]


def _endpoint(state: StatsState, handler: Any) -> Any:
    guard = guard_for(state.extras)  # off the event loop, a few at a time, within a budget

    async def endpoint(request: Request) -> Response:
        store = state.store
        try:
            site = _param(request, "site_id")
            if not site:
                raise StatsError("site_id", "site_id is required")
            await run_in_threadpool(authorize, store, request, site)
            body = await guard.run(handler, store, request, site)
        except StatsError as exc:
            return _error(exc.status, str(exc))
        except StatsUnavailable as exc:
            return _error(exc.status, exc.message)
        except (QueryTimeout, Busy, CatchingUp) as exc:
            return overload_response(exc)
        return JSONResponse(body, headers=_HEADERS)

    return endpoint


def routes(state: StatsState) -> list[BaseRoute]:
    """The stats API routes (picked up by footfall.server.app)."""
    base = "/api/v1/stats"
    return [
        Route(f"{base}/aggregate", _endpoint(state, _aggregate)),
        Route(f"{base}/timeseries", _endpoint(state, _timeseries)),
        Route(f"{base}/breakdown", _endpoint(state, _breakdown)),
        Route(f"{base}/realtime/visitors", _endpoint(state, _realtime)),
        Route(f"{base}/realtime/pages", _endpoint(state, _pages)),
        Route(f"{base}/funnel", _endpoint(state, _funnel)),
    ]
