"""`/reports/unsubscribe`: the link at the bottom of every email report.

GET shows what the link would end and a button; only the POST ends it, since
mail scanners and link previews follow links in mail (GET) but do not submit
forms. Mail clients that offer RFC 8058 one-click unsubscribe POST to the
`List-Unsubscribe` URL directly, which is this same POST. The token in the
URL is the only credential: it belongs to one subscription, and the pages
send no referrer, so it does not leak to another site.
"""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from footfall.reports.render import HTML_TEMPLATES, UNSUBSCRIBE_PATH
from footfall.stores.base import Store
from footfall.stores.meta import open_meta
from footfall.stores.meta_records import ReportSubscription

__all__ = ["ReportsState", "routes"]

MAX_TOKEN = 200
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}
_KINDS = {"week": "weekly", "month": "monthly"}


class ReportsState(Protocol):
    """What the route needs of the server's state (`footfall.server.state.ServerState`)."""

    store: Store


def _page(state: str, sub: ReportSubscription | None, token: str, status: int = 200) -> Response:
    headings = {
        "confirm": "Unsubscribe from this report?",
        "done": "Unsubscribed",
        "unknown": "Nothing to unsubscribe",
    }
    html = HTML_TEMPLATES.get_template("unsubscribe.html").render(
        state=state,
        heading=headings[state],
        site=sub.site if sub else "",
        email=sub.email if sub else "",
        kind=_KINDS.get(sub.period, sub.period) if sub else "",
        action=f"{UNSUBSCRIBE_PATH}?{urlencode({'token': token})}",
    )
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


def routes(state: ReportsState) -> list[BaseRoute]:
    """The unsubscribe route (picked up by footfall.server.app)."""

    async def unsubscribe(request: Request) -> Response:
        token = request.query_params.get("token", "")
        if not token or len(token) > MAX_TOKEN:
            return _page("unknown", None, "", 404)
        meta: Any = await run_in_threadpool(open_meta, state.store)
        if request.method == "POST":
            sub = await run_in_threadpool(meta.unsubscribe_report, token)
            return _page("done", sub, token) if sub else _page("unknown", None, "", 404)
        sub = await run_in_threadpool(meta.report_by_token, token)
        return _page("confirm", sub, token) if sub else _page("unknown", None, "", 404)

    return [Route(UNSUBSCRIBE_PATH, unsubscribe, methods=["GET", "POST"])]
