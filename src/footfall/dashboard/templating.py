"""Jinja2 rendering for the dashboard: autoescaped, hardened, CSRF-aware.

Every page goes through `render`, which adds the security headers (a strict
Content-Security-Policy among them) and sends the CSRF cookie when the page
minted a token for its forms.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from footfall.dashboard.security import csrf_token, harden, set_csrf_cookie

__all__ = ["STATIC_PREFIX", "render"]

STATIC_PREFIX = "/static/dashboard"

_env = Environment(
    loader=PackageLoader("footfall.dashboard", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render `template` for `request` as a hardened HTML response."""
    context.setdefault("user", getattr(request.state, "footfall_user", None))
    context.setdefault("static", STATIC_PREFIX)
    context.setdefault("messages", [])
    context["csrf"] = lambda: csrf_token(request)
    html = _env.get_template(template).render(**context)
    response = HTMLResponse(html, status_code=status_code)
    set_csrf_cookie(request, response)
    harden(response)
    return response
