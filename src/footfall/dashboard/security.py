"""Session middleware, CSRF tokens, cookie flags and security headers.

The session middleware is the contract with the stats API: for a request
carrying a live session cookie it sets `request.state.footfall_user` (the
user name), and the API treats that as authorisation for any site.

CSRF uses the double-submit pattern: every form carries a token that must
equal the `footfall_csrf` cookie (SameSite=Strict, HttpOnly), and a
cross-origin `Origin` header is refused outright. A page on another origin
can neither read the cookie nor make the browser send it on a cross-site
POST, so it cannot forge a matching form.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import OrderedDict
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from footfall import settings
from footfall.dashboard.auth import SESSION_SECONDS, Users

__all__ = [
    "CSP",
    "CSRF_COOKIE",
    "SESSION_COOKIE",
    "SessionMiddleware",
    "csrf_ok",
    "csrf_token",
    "harden",
    "is_https",
    "safe_next",
    "set_session_cookie",
]

SESSION_COOKIE = "footfall_session"
CSRF_COOKIE = "footfall_csrf"
CACHE_SECONDS = 30.0  # how long a worker trusts a session lookup before asking again
CACHE_MAX = 10_000  # session lookups kept; beyond, the least recently used goes
# The collector's hot paths and static files never need to know who is logged in.
NO_SESSION_PREFIXES = ("/api/event", "/js/", "/static/", "/com.snowplowanalytics.snowplow/")
NO_SESSION_PATHS = frozenset({"/health", "/i"})

# No inline script or style anywhere: every script is a file under /static.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def is_https(request: Request) -> bool:
    """Whether the browser reached us over https (directly or via a proxy)."""
    if settings.SECURE_COOKIES() or request.url.scheme == "https":
        return True
    return request.headers.get("x-forwarded-proto", "").lower() == "https"


def harden(response: Response) -> Response:
    """Security headers for every dashboard page."""
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def csrf_token(request: Request) -> str:
    """The CSRF token for forms on this page (set as a cookie by `harden_csrf`)."""
    token = request.cookies.get(CSRF_COOKIE, "")
    if not (20 <= len(token) <= 100):
        token = getattr(request.state, "new_csrf", "") or secrets.token_urlsafe(32)
        request.state.new_csrf = token
    return token


def set_csrf_cookie(request: Request, response: Response) -> None:
    """Send the CSRF cookie if this page minted a new token."""
    token = getattr(request.state, "new_csrf", "")
    if token:
        response.set_cookie(
            CSRF_COOKIE, token, httponly=True, samesite="strict", secure=is_https(request), path="/"
        )


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return urlsplit(origin).netloc.lower() == host.lower()


def csrf_ok(request: Request, submitted: object) -> bool:
    """Whether a POSTed form's token matches the cookie (and the origin is ours)."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not isinstance(submitted, str) or len(cookie) < 20 or not _same_origin(request):
        return False
    return hmac.compare_digest(cookie.encode(), submitted.encode())


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/",
    )


def safe_next(target: str | None) -> str:
    """A same-site path to go back to after login; anything else goes home."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(ord(c) < 32 for c in target):
        return "/"
    return target


class SessionMiddleware:
    """Resolve the session cookie to `scope["state"]["footfall_user"]`.

    Lookups run in a worker thread (they touch the database) and are cached
    for `CACHE_SECONDS`, so a dashboard that fires a dozen API calls costs
    one query. Logging out clears this process's cache at once; another
    server process may honour a logged-out cookie for up to that long. A
    full cache lets go of the least recently used lookup, so a stream of
    made-up cookies cannot push out the sessions in use.
    """

    def __init__(self, app: ASGIApp, users: Users) -> None:
        self.app = app
        self.users = users
        # token -> (valid until, user), least recently used first
        self._cache: OrderedDict[str, tuple[float, str | None]] = OrderedDict()

    def forget(self, token: str) -> None:
        self._cache.pop(token, None)

    async def _user(self, token: str) -> str | None:
        now = time.monotonic()
        cache = self._cache
        hit = cache.get(token)
        if hit and hit[0] > now:
            cache.move_to_end(token)
            return hit[1]
        user = await anyio.to_thread.run_sync(self.users.session_user, token)
        cache[token] = (now + CACHE_SECONDS, user)
        cache.move_to_end(token)
        while len(cache) > CACHE_MAX:
            cache.popitem(last=False)
        return user

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            state: dict[str, Any] = scope.setdefault("state", {})
            state["footfall_user"] = None
            state["footfall_sessions"] = self
            path = scope.get("path", "")
            skip = path in NO_SESSION_PATHS or path.startswith(NO_SESSION_PREFIXES)
            token = "" if skip else _cookie(scope, SESSION_COOKIE)
            if token:
                state["footfall_user"] = await self._user(token)
        await self.app(scope, receive, send)


def _cookie(scope: Scope, name: str) -> str:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # noqa: S112 - a malformed cookie header is no session
                continue
            if name in jar:
                return jar[name].value
    return ""
