"""ASGI middleware (Starlette, FastAPI, Django under ASGI, any ASGI app).

    from footfall.integrations.asgi import FootfallMiddleware
    app.add_middleware(FootfallMiddleware, sinks=["sqlite:///./footfall.db"])   # FastAPI
    app = FootfallMiddleware(app, sinks=[...])                                 # plain ASGI

One event per HTTP request, enqueued when the final body message is sent
(`more_body` false), so streamed responses are measured to their end. An app
that raises is recorded as status 500 and the exception propagates
unchanged; a response the app abandons (client gone) is recorded with what
was sent. Lifespan and websocket scopes pass through untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from footfall.integrations.base import MiddlewareBase
from footfall.integrations.request import (
    Options,
    Pending,
    client_ip,
    cookie_header,
    deliver,
    is_opted_out,
    last_hop,
    new_visit_key,
    read_cookie,
    run_inline,
    valid_key,
)
from footfall.origin import bind, unbind

__all__ = ["FootfallMiddleware", "from_scope"]

log = logging.getLogger("footfall.integrations")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
UserIdGetter = Callable[[Scope], "str | None"]

# Request headers the extractor reads (ASGI gives lower-case bytes names).
_WANTED = frozenset(
    {
        b"host",
        b"referer",
        b"user-agent",
        b"accept-language",
        b"cookie",
        b"dnt",
        b"sec-gpc",
        b"x-forwarded-for",
        b"forwarded",
        b"x-forwarded-proto",
        b"x-forwarded-host",
    }
)


def _headers(scope: Scope) -> dict[bytes, str]:
    """The wanted request headers; repeated ones joined with ', ' as HTTP allows."""
    found: dict[bytes, str] = {}
    for name, value in scope.get("headers", ()):
        if name in _WANTED:
            text = value.decode("latin-1")
            found[name] = f"{found[name]}, {text}" if name in found else text
    return found


def from_scope(scope: Scope, options: Options) -> Pending | None:
    """Read an HTTP scope's headers; None when this request is not tracked."""
    root = scope.get("root_path", "")
    path = scope.get("path", "") or "/"
    if root and not path.startswith(root):
        path = root + path  # older servers give the path below root_path
    if not options.path_filter(path):
        return None
    headers = _headers(scope)
    if options.honor_dnt and is_opted_out(headers.get(b"dnt"), headers.get(b"sec-gpc")):
        return None
    client = scope.get("client")
    remote = str(client[0]) if client else ""
    scheme = "https" if scope.get("scheme") in ("https", "wss") else "http"
    host = headers.get(b"host", "")
    if not host:
        server = scope.get("server")
        host = f"{server[0]}:{server[1]}" if server and server[1] else ""
    trusted = options.trusted_proxies
    if trusted:
        header = b"forwarded" if options.proxy_header == "forwarded" else b"x-forwarded-for"
        ip = client_ip(remote, headers.get(header, ""), trusted, options.proxy_header)
        proto = last_hop(headers.get(b"x-forwarded-proto", "")).lower()
        if proto in ("http", "https"):
            scheme = proto
        fwd_host = last_hop(headers.get(b"x-forwarded-host", ""))
        if fwd_host:
            host = fwd_host
    else:
        ip = remote
    query = scope.get("query_string", b"")
    pending = Pending(
        method=scope.get("method", "GET"),
        scheme=scheme,
        host=host,
        path=path,
        query=query.decode("latin-1") if query else "",
        referrer=headers.get(b"referer", ""),
        user_agent=headers.get(b"user-agent", ""),
        language=headers.get(b"accept-language", ""),
        ip=ip,
        site=options.site,
    )
    if options.cookie:
        key = read_cookie(headers.get(b"cookie"), options.cookie_name)
        if not valid_key(key):
            key = new_visit_key()
            pending.set_cookie = cookie_header(
                options.cookie_name, key, options.cookie_max_age, scheme == "https"
            )
        pending.visitor_id = key or ""
    return pending


def scope_user_id(scope: Scope) -> str | None:
    """The user Starlette's AuthenticationMiddleware put in `scope["user"]`, if any."""
    user = scope.get("user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    ident = getattr(user, "identity", None) or getattr(user, "display_name", None)
    return str(ident) if ident else None


class FootfallMiddleware(MiddlewareBase):
    """Tracks every HTTP request of an ASGI app; options as the WSGI middleware.

    `get_user_id(scope)` names the user; by default the authenticated
    `scope["user"]` (Starlette's `AuthenticationMiddleware`) is used. While
    the app handles a tracked request, the request is bound
    (`footfall.origin`): events it emits count as the request's visitor.
    """

    app: ASGIApp

    def default_user_id(self) -> Callable[[Scope], str | None]:
        return scope_user_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        pending = from_scope(scope, self.options)
        if pending is None:
            await self.app(scope, receive, send)
            return
        state = _State()
        set_cookie = pending.set_cookie.encode("latin-1") if pending.set_cookie else b""

        async def _send(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                state.read(message)
                if set_cookie:
                    message = dict(message)
                    message["headers"] = [*message.get("headers", ()), (b"set-cookie", set_cookie)]
            elif kind == "http.response.body":
                body = message.get("body", b"")
                state.sent += len(body)
                if not message.get("more_body", False):
                    await send(message)
                    self._record(pending, scope, state, failed=False)
                    return
            elif kind == "http.response.pathsend":  # a file the server sends itself
                await send(message)
                self._record(pending, scope, state, failed=False)
                return
            await send(message)

        token = bind(pending)  # events the app emits meanwhile are this request's visitor's
        try:
            await self.app(scope, receive, _send)
        except Exception:
            self._record(pending, scope, state, failed=True)
            raise
        finally:
            unbind(token)
        self._record(pending, scope, state, failed=False)

    def _record(self, pending: Pending, scope: Scope, state: _State, *, failed: bool) -> None:
        if state.recorded:
            return
        state.recorded = True
        try:
            get_user_id = self.get_user_id
            user = get_user_id(scope) if get_user_id is not None else None
            if user:
                pending.user_id = str(user)
            status = 500 if failed else state.status
            size = state.length if state.length >= 0 and not failed else state.sent
            pending.finish(status, state.content_type, size)
            deliver(self.get_tracker(), pending, self.options)
            run_inline(pending, scope)
        except Exception:
            log.exception("footfall: could not record a request")


class _State:
    """What the app has sent so far."""

    __slots__ = ("content_type", "length", "recorded", "sent", "status")

    def __init__(self) -> None:
        self.status = 0
        self.content_type = ""
        self.length = -1
        self.sent = 0
        self.recorded = False

    def read(self, message: Message) -> None:
        self.status = int(message.get("status", 0))
        for name, value in message.get("headers", ()):
            lower = name.lower()
            if lower == b"content-type":
                self.content_type = value.decode("latin-1").lower()
            elif lower == b"content-length":
                try:
                    self.length = int(value)
                except ValueError:
                    self.length = -1
