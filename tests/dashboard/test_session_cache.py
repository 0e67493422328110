"""The session middleware's lookup cache: bounded, and full does not mean forgetful."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from footfall import connect
from footfall.dashboard import security
from footfall.dashboard.auth import Users
from footfall.dashboard.security import SESSION_COOKIE, SessionMiddleware


class Recorder:
    """The app behind the middleware: notes the user each request was given."""

    def __init__(self) -> None:
        self.user: Any = "no request yet"

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.user = scope["state"]["footfall_user"]


def _user_seen(middleware: SessionMiddleware, app: Recorder, token: str) -> Any:
    """Send one request with `token` as the session cookie; the user the app was given."""
    scope = {
        "type": "http",
        "path": "/api/v1/stats/aggregate",
        "headers": [(b"cookie", f"{SESSION_COOKIE}={token}".encode())],
    }

    async def call() -> None:
        await middleware(scope, None, None)  # type: ignore[arg-type]

    anyio.run(call)
    return app.user


def test_a_full_cache_keeps_the_session_just_looked_up(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(security, "CACHE_MAX", 4)
    users = Users(connect(db_url))
    users.add("alice", "correct horse battery")
    token = users.start_session("alice")
    app = Recorder()
    middleware = SessionMiddleware(app, users)
    for n in range(3):
        assert _user_seen(middleware, app, f"unknown-{n}") is None
    assert _user_seen(middleware, app, token) == "alice"  # the cache is full now
    # The session ends behind the cache's back: only a cached answer still says alice.
    users.end_session(token)
    assert _user_seen(middleware, app, "unknown-3") is None  # one more: something must go
    assert _user_seen(middleware, app, token) == "alice"  # a hit: the oldest unknown token went
    middleware.forget(token)
    assert _user_seen(middleware, app, token) is None
