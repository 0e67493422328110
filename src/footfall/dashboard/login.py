"""Login, logout and first-user setup pages.

Login attempts are limited by `footfall.dashboard.throttle.LoginThrottle`
(per client address and user name, and per client address), charged before
the password is checked; at most `MAX_VERIFYING` password checks run at once
in a process (each argon2 check holds 64 MiB), and an attempt beyond that is
answered 503 with `Retry-After` without being checked. Every POSTed form is
read within `footfall.dashboard.forms.MAX_FORM_BYTES`.
"""

from __future__ import annotations

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from footfall.clientip import client_ip, client_key, header_value
from footfall.dashboard.auth import Users, check_new_user
from footfall.dashboard.forms import FormRefused, read_form
from footfall.dashboard.security import (
    SESSION_COOKIE,
    SessionMiddleware,
    csrf_ok,
    harden,
    safe_next,
    set_session_cookie,
)
from footfall.dashboard.templating import render
from footfall.dashboard.throttle import LoginThrottle
from footfall.errors import ValidationError

__all__ = ["MAX_VERIFYING", "LoginPages"]

MAX_VERIFYING = 4  # concurrent argon2 checks per process: 4 x 64 MiB
BUSY_RETRY = 1  # seconds a login refused for lack of a verification slot waits
BAD_CSRF = "This form has expired or came from another site; please try again."
BUSY = "The server is busy checking other logins; try again in a moment."


def _retry_after(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, int(seconds + 0.999)))}


class LoginPages:
    """The handlers, bound to one store's users and one process's login limits."""

    def __init__(
        self,
        users: Users,
        *,
        trusted_proxies: int = 0,
        throttle: LoginThrottle | None = None,
        max_verifying: int = MAX_VERIFYING,
    ) -> None:
        self.users = users
        self.trusted_proxies = trusted_proxies
        self.throttle = throttle or LoginThrottle()
        self.max_verifying = max_verifying
        self.verifying = 0  # password checks running now (changed only on the event loop)

    def _client(self, request: Request) -> str:
        """The limiter's key for the sender: proxy-aware address, /64 for IPv6."""
        peer = request.client.host if request.client else ""
        forwarded = header_value(request.scope["headers"], b"x-forwarded-for")
        return client_key(client_ip(peer, forwarded, self.trusted_proxies))

    async def _verify(
        self, request: Request, name: str, password: str, target: str
    ) -> Response | None:
        """Check the password within the limits: None when right, else the answer to send.

        Nothing is awaited between the checks and the charge, so concurrent
        attempts cannot all pass the checks before any of them is charged.
        """
        if self.verifying >= self.max_verifying:
            busy = render(request, "login.html", 503, next=target, error=BUSY, name=name)
            busy.headers.update(_retry_after(BUSY_RETRY))
            return busy
        charge = self.throttle.charge(self._client(request), name)
        if isinstance(charge, float):
            error = "Too many failed logins; wait a few minutes."
            blocked = render(request, "login.html", 429, next=target, error=error, name=name)
            blocked.headers.update(_retry_after(charge))
            return blocked
        self.verifying += 1
        try:
            ok = await anyio.to_thread.run_sync(self.users.verify, name, password)
        finally:
            self.verifying -= 1
        if ok:
            self.throttle.refund(charge)
            return None
        error = "Unknown user or wrong password."
        return render(request, "login.html", 401, next=target, error=error, name=name)

    async def login(self, request: Request) -> Response:
        target = safe_next(request.query_params.get("next"))
        if request.method == "GET":
            if getattr(request.state, "footfall_user", None):
                return RedirectResponse(target, status_code=303)
            return render(request, "login.html", next=target, error="", name="")
        try:
            form = await read_form(request)
        except FormRefused as exc:
            return render(request, "login.html", exc.status, next=target, error=exc.reason, name="")
        name, password = form.get("name", "")[:64], form.get("password", "")
        target = safe_next(form.get("next", "/"))
        if not csrf_ok(request, form.get("csrf")):
            return render(request, "login.html", 403, next=target, error=BAD_CSRF, name=name)
        refused = await self._verify(request, name, password, target)
        if refused is not None:
            return refused
        token = await anyio.to_thread.run_sync(self.users.start_session, name)
        response = RedirectResponse(target, status_code=303)
        set_session_cookie(request, response, token)
        return harden(response)

    async def logout(self, request: Request) -> Response:
        try:
            form = await read_form(request)
        except FormRefused as exc:
            return render(request, "message.html", exc.status, title="Logout", text=exc.reason)
        if not csrf_ok(request, form.get("csrf")):
            return render(request, "message.html", 403, title="Logout failed", text=BAD_CSRF)
        token = request.cookies.get(SESSION_COOKIE, "")
        if token:
            await anyio.to_thread.run_sync(self.users.end_session, token)
            sessions = request.scope.get("state", {}).get("footfall_sessions")
            if isinstance(sessions, SessionMiddleware):
                sessions.forget(token)
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
        return harden(response)

    async def setup(self, request: Request) -> Response:
        """Create the first user with the one-time link `footfall serve` printed."""
        token = request.query_params.get("token", "")
        form: dict[str, str] = {}
        if request.method == "POST":
            try:
                form = await read_form(request)
            except FormRefused as exc:
                return render(request, "message.html", exc.status, title="Setup", text=exc.reason)
            token = form.get("token", "")
        valid = await anyio.to_thread.run_sync(self.users.setup_token_valid, token)
        if not valid:
            text = (
                "This setup link is not valid (used, expired, or a user already exists). "
                "Run `footfall users add NAME`, or restart `footfall serve` for a new link."
            )
            return render(request, "message.html", 404, title="Setup", text=text)
        if request.method == "GET":
            return render(request, "setup.html", token=token, error="", name="")
        name = form.get("name", "")[:64]
        password = form.get("password", "")
        if not csrf_ok(request, form.get("csrf")):
            return render(request, "setup.html", 403, token=token, error=BAD_CSRF, name=name)
        if password != form.get("password2", ""):
            error = "The passwords differ."
            return render(request, "setup.html", 400, token=token, error=error, name=name)
        problem = check_new_user(name, password)
        if problem:
            return render(request, "setup.html", 400, token=token, error=problem, name=name)
        # Consume the link first: of two racing submissions only one gets a user.
        if not await anyio.to_thread.run_sync(self.users.use_setup_token, token):
            return render(request, "message.html", 409, title="Setup", text="Link already used.")
        try:
            await anyio.to_thread.run_sync(self.users.add, name, password)
        except ValidationError as exc:
            return render(request, "message.html", 400, title="Setup", text=str(exc))
        session = await anyio.to_thread.run_sync(self.users.start_session, name)
        response = RedirectResponse("/", status_code=303)
        set_session_cookie(request, response, session)
        return harden(response)
