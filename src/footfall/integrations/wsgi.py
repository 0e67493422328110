"""WSGI middleware: one event per request, enqueued when the response ends.

    from footfall.integrations.wsgi import FootfallMiddleware
    app = FootfallMiddleware(app, sinks=["sqlite:///./footfall.db"])

The response iterable is wrapped so a streamed body is measured when its
last chunk is sent (or when the server calls `close()`, whichever comes
first); an app that raises is recorded as status 500 and the exception
propagates unchanged. Requests that are not tracked (excluded paths, static
files, Do-Not-Track when honoured) go straight to the app with no wrapper.

`from_environ` is also what the Flask and Django integrations use: Django's
`request.META` is a WSGI environ as far as these keys go.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import TracebackType
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

__all__ = ["FootfallMiddleware", "from_environ"]

log = logging.getLogger("footfall.integrations")

Environ = dict[str, Any]
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | None
StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]
UserIdGetter = Callable[[Environ], "str | None"]


def _text(raw: str) -> str:
    """A WSGI path (bytes decoded as latin-1, per PEP 3333) as real text."""
    if raw.isascii():
        return raw
    try:
        return raw.encode("latin-1").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a server that already decoded as UTF-8
        return raw


def _host(environ: Mapping[str, Any]) -> str:
    host = environ.get("HTTP_HOST")
    if host:
        return str(host)
    name = str(environ.get("SERVER_NAME", ""))
    port = str(environ.get("SERVER_PORT", ""))
    scheme = environ.get("wsgi.url_scheme", "http")
    if port and not ((scheme == "http" and port == "80") or (scheme == "https" and port == "443")):
        return f"{name}:{port}"
    return name


def from_environ(
    environ: Mapping[str, Any],
    options: Options,
    *,
    scheme: str | None = None,
    path: str | None = None,
) -> Pending | None:
    """Read a request's headers; None when this request is not tracked.

    `scheme` and `path` override the environ's where a framework knows
    better (Django: `SECURE_PROXY_SSL_HEADER`, already-decoded paths).
    """
    get = environ.get
    if path is None:
        path = get("SCRIPT_NAME", "") + get("PATH_INFO", "")
        if not path.isascii():
            path = _text(path)
    if not options.path_filter(path or "/"):
        return None
    if options.honor_dnt and is_opted_out(get("HTTP_DNT"), get("HTTP_SEC_GPC")):
        return None
    scheme = scheme or get("wsgi.url_scheme", "http")
    host = get("HTTP_HOST") or _host(environ)
    ip = get("REMOTE_ADDR") or ""
    trusted = options.trusted_proxies
    if trusted:
        header = "HTTP_FORWARDED" if options.proxy_header == "forwarded" else "HTTP_X_FORWARDED_FOR"
        ip = client_ip(ip, get(header, ""), trusted, options.proxy_header)
        proto = last_hop(get("HTTP_X_FORWARDED_PROTO", "")).lower()
        if proto in ("http", "https"):
            scheme = proto
        fwd_host = last_hop(get("HTTP_X_FORWARDED_HOST", ""))
        if fwd_host:
            host = fwd_host
    query = get("QUERY_STRING", "")
    pending = Pending(
        get("REQUEST_METHOD", "GET"),
        scheme or "http",
        host,
        path or "/",
        query if query.isascii() else _text(query),
        get("HTTP_REFERER", ""),
        get("HTTP_USER_AGENT", ""),
        get("HTTP_ACCEPT_LANGUAGE", ""),
        ip,
        options.site,
    )
    if options.cookie:
        key = read_cookie(environ.get("HTTP_COOKIE"), options.cookie_name)
        if not valid_key(key):
            key = new_visit_key()
            pending.set_cookie = cookie_header(
                options.cookie_name, key, options.cookie_max_age, pending.scheme == "https"
            )
        pending.visitor_id = key or ""
    return pending


class _Call:
    """One tracked request: wraps `start_response` and the body; records once at the end.

    One object per request (the `start_response` the app sees, the body
    iterable the server sees, and the record of what was sent) instead of
    closures plus holders: on the request path every allocation and call shows.
    """

    __slots__ = (
        "content_type",
        "environ",
        "inner",
        "length",
        "mw",
        "pending",
        "sent",
        "start_response",
        "status",
    )

    def __init__(
        self,
        mw: FootfallMiddleware,
        pending: Pending,
        environ: Environ,
        start_response: StartResponse,
    ) -> None:
        self.mw: FootfallMiddleware | None = mw  # None once recorded
        self.pending = pending
        self.environ = environ
        self.start_response = start_response
        self.status = 0
        self.content_type = ""
        self.length = -1
        self.sent = 0
        self.inner: Iterable[Any] = ()

    def start(self, status: str, headers: list[tuple[str, str]], exc_info: ExcInfo = None) -> Any:
        """The `start_response` the app sees: note status and headers, add the cookie."""
        try:
            self.status = int(status[:3])
        except ValueError:
            self.status = 0
        for name, value in headers:
            lower = name.lower()
            if lower == "content-type":
                self.content_type = value.lower()
            elif lower == "content-length":
                self.length = int(value) if value.isdigit() else -1
        set_cookie = self.pending.set_cookie
        if set_cookie:
            headers = [*headers, ("Set-Cookie", set_cookie)]
        return self.start_response(status, headers, exc_info)

    def __iter__(self) -> Iterator[Any]:
        """The body as the server sees it: the app's chunks, counted."""
        try:
            for chunk in self.inner:
                # Flask streams may yield str; count what goes on the wire.
                self.sent += len(chunk) if type(chunk) is bytes else len(str(chunk).encode())
                yield chunk
        except Exception:
            self.done(self.sent, True)
            raise
        self.done(self.sent, False)

    def close(self) -> None:
        try:
            close = getattr(self.inner, "close", None)
            if close is not None:
                close()
        finally:
            self.done(self.sent, False)

    def done(self, sent: int, failed: bool) -> None:
        """The body ended (or failed, or was closed): record the request, once."""
        mw, self.mw = self.mw, None
        if mw is None:
            return
        if failed:
            mw._record(self.pending, self.environ, 500, self.content_type, sent)
        else:
            size = self.length if self.length >= 0 else sent
            mw._record(self.pending, self.environ, self.status, self.content_type, size)


class _Body:
    """The app's response iterable, counted; records once when it ends."""

    __slots__ = ("_done", "_inner", "_sent")

    def __init__(self, inner: Iterable[Any], done: Callable[[int, bool], None]) -> None:
        self._inner = inner
        self._done: Callable[[int, bool], None] | None = done
        self._sent = 0

    def __iter__(self) -> Iterator[Any]:
        try:
            for chunk in self._inner:
                # Flask streams may yield str; count what goes on the wire.
                self._sent += len(chunk) if type(chunk) is bytes else len(str(chunk).encode())
                yield chunk
        except Exception:
            self._finish(failed=True)
            raise
        self._finish(failed=False)

    def _finish(self, failed: bool) -> None:
        done, self._done = self._done, None
        if done is not None:
            done(self._sent, failed)

    def close(self) -> None:
        try:
            close = getattr(self._inner, "close", None)
            if close is not None:
                close()
        finally:
            self._finish(failed=False)


class FootfallMiddleware(MiddlewareBase):
    """Tracks every request of a WSGI app; see the module docstring.

    Options are those of `footfall.integrations.base.MiddlewareBase`;
    `get_user_id(environ)` names the user when `REMOTE_USER` does not.
    While the app handles a tracked request, the request is bound
    (`footfall.origin`): events it emits count as the request's visitor.
    """

    app: WSGIApp

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        pending = from_environ(environ, self.options)
        if pending is None:
            return self.app(environ, start_response)
        call = _Call(self, pending, environ, start_response)
        token = bind(pending)  # events the app emits meanwhile are this request's visitor's
        try:
            result = self.app(environ, call.start)
        except Exception:
            self._record(pending, environ, 500, "", 0)
            raise
        finally:
            unbind(token)
        if type(result) is list:
            # Already complete: record now and hand the body on untouched.
            call.done(sum(len(c) for c in result), False)
            return result
        file_wrapper = environ.get("wsgi.file_wrapper")
        if isinstance(file_wrapper, type) and isinstance(result, file_wrapper):
            # The server sends the file itself (sendfile); wrapping would stop that.
            call.done(max(call.length, 0), False)
            return result
        call.inner = result
        return call

    def _record(
        self, pending: Pending, environ: Environ, status: int, content_type: str, size: int
    ) -> None:
        try:
            user = environ.get("REMOTE_USER")
            if not user and self.get_user_id is not None:
                user = self.get_user_id(environ)
            if user:
                pending.user_id = str(user)
            deliver(self.get_tracker(), pending.finish(status, content_type, size), self.options)
            run_inline(pending, environ)
        except Exception:
            # Tracking must never break a response that is already on its way.
            log.exception("footfall: could not record a request")
