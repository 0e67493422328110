"""Login, logout and first-user setup pages.

Failed logins are counted per client address and slowed to a stop after
`MAX_FAILURES` in `FAILURE_WINDOW` seconds, so a password cannot be guessed
at argon2's hashing speed from one machine.
"""

from __future__ import annotations

import time
from collections import deque

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from footfall.dashboard.auth import Users, check_new_user
from footfall.dashboard.security import (
    SESSION_COOKIE,
    SessionMiddleware,
    csrf_ok,
    harden,
    safe_next,
    set_session_cookie,
)
from footfall.dashboard.templating import render
from footfall.errors import ValidationError

__all__ = ["LoginPages"]

MAX_FAILURES = 10
FAILURE_WINDOW = 300.0
MAX_TRACKED_CLIENTS = 10_000
BAD_CSRF = "This form has expired or came from another site; please try again."


class LoginPages:
    """The handlers, bound to one store's users."""

    def __init__(self, users: Users) -> None:
        self.users = users
        self._failures: dict[str, deque[float]] = {}

    def _client(self, request: Request) -> str:
        return request.client.host if request.client else "?"

    def _blocked(self, client: str) -> bool:
        now = time.monotonic()
        hits = self._failures.get(client)
        while hits and hits[0] < now - FAILURE_WINDOW:
            hits.popleft()
        return bool(hits) and len(hits or ()) >= MAX_FAILURES

    def _failed(self, client: str) -> None:
        if len(self._failures) >= MAX_TRACKED_CLIENTS:
            self._failures.clear()
        self._failures.setdefault(client, deque()).append(time.monotonic())

    async def login(self, request: Request) -> Response:
        target = safe_next(request.query_params.get("next"))
        if request.method == "GET":
            if getattr(request.state, "footfall_user", None):
                return RedirectResponse(target, status_code=303)
            return render(request, "login.html", next=target, error="", name="")
        form = await request.form()
        name, password = str(form.get("name", ""))[:64], str(form.get("password", ""))
        target = safe_next(str(form.get("next", "/")))
        if not csrf_ok(request, form.get("csrf")):
            return render(request, "login.html", 403, next=target, error=BAD_CSRF, name=name)
        client = self._client(request)
        if self._blocked(client):
            error = "Too many failed logins; wait a few minutes."
            return render(request, "login.html", 429, next=target, error=error, name=name)
        if not await anyio.to_thread.run_sync(self.users.verify, name, password):
            self._failed(client)
            error = "Unknown user or wrong password."
            return render(request, "login.html", 401, next=target, error=error, name=name)
        token = await anyio.to_thread.run_sync(self.users.start_session, name)
        response = RedirectResponse(target, status_code=303)
        set_session_cookie(request, response, token)
        return harden(response)

    async def logout(self, request: Request) -> Response:
        form = await request.form()
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
        if request.method == "POST":
            form = await request.form()
            token = str(form.get("token", ""))
        valid = await anyio.to_thread.run_sync(self.users.setup_token_valid, token)
        if not valid:
            text = (
                "This setup link is not valid (used, expired, or a user already exists). "
                "Run `footfall users add NAME`, or restart `footfall serve` for a new link."
            )
            return render(request, "message.html", 404, title="Setup", text=text)
        if request.method == "GET":
            return render(request, "setup.html", token=token, error="", name="")
        name = str(form.get("name", ""))[:64]
        password = str(form.get("password", ""))
        if not csrf_ok(request, form.get("csrf")):
            return render(request, "setup.html", 403, token=token, error=BAD_CSRF, name=name)
        if password != str(form.get("password2", "")):
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
