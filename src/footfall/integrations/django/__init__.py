"""Django integration: a middleware configured from `settings.FOOTFALL`.

    INSTALLED_APPS = [..., "footfall.integrations.django"]
    MIDDLEWARE = ["footfall.integrations.django.FootfallMiddleware", ...]
    FOOTFALL = {"STORES": ["sqlite:///./footfall.db"], "SITE": "example.com"}

Put the middleware first so it times the whole stack and sees the response
every other middleware produced. It works under WSGI and ASGI (sync and
async), measures streamed responses when their last chunk is sent, and
records a view that raises as status 500 while the exception goes on
unchanged. The user id comes from `request.user` when something already
loaded it (a view, a template, `login_required`): reading it ourselves would
cost a database query on the request path, unless `"LOAD_USER": True`.

Settings (all optional): `STORES` (or `SINKS`: store URLs, stores or sinks;
default `$FOOTFALL_DB` or ./footfall.db, or the tracker already registered),
`SITE`, `INCLUDE`, `EXCLUDE`, `EXCLUDE_STATIC`, `TRUSTED_PROXIES`,
`PROXY_HEADER`, `COOKIE`, `COOKIE_NAME`, `COOKIE_MAX_AGE`, `HONOR_DNT`,
`PRIVACY` (options of `default_processors`: `ip`, `geo`, `geoip_db`,
`visit_timeout`, ...), `LOAD_USER`, `REGISTER` (make it the global tracker,
default true).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

from footfall.integrations import build_tracker, not_installed
from footfall.integrations.request import Options, Pending, deliver, run_inline
from footfall.integrations.wsgi import _Body, from_environ
from footfall.origin import bind, unbind
from footfall.stores import default_url
from footfall.tracker import Tracker, _registry, register_tracker

try:
    from asgiref.sync import iscoroutinefunction, markcoroutinefunction
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.http import HttpRequest
    from django.http.response import HttpResponseBase
    from django.utils.functional import LazyObject, empty
except ImportError as exc:  # pragma: no cover - exercised only without django
    raise not_installed("Django", "django", exc) from exc

__all__ = ["FootfallMiddleware", "configured_tracker", "load_settings", "reset"]

log = logging.getLogger("footfall.integrations")

_OPTION_KEYS = {
    "SITE": "site",
    "INCLUDE": "include",
    "EXCLUDE": "exclude",
    "EXCLUDE_STATIC": "exclude_static",
    "TRUSTED_PROXIES": "trusted_proxies",
    "PROXY_HEADER": "proxy_header",
    "COOKIE": "cookie",
    "COOKIE_NAME": "cookie_name",
    "COOKIE_MAX_AGE": "cookie_max_age",
    "HONOR_DNT": "honor_dnt",
}
_OTHER_KEYS = {"STORES", "SINKS", "PRIVACY", "LOAD_USER", "REGISTER"}

_lock = threading.Lock()
_trackers: dict[str, Tracker] = {}


def load_settings() -> dict[str, Any]:
    """`settings.FOOTFALL`, checked: an unknown key is a configuration error."""
    config = getattr(settings, "FOOTFALL", None) or {}
    if not isinstance(config, dict):
        raise ImproperlyConfigured("settings.FOOTFALL must be a dict")
    unknown = set(config) - set(_OPTION_KEYS) - _OTHER_KEYS
    if unknown:
        allowed = ", ".join(sorted(set(_OPTION_KEYS) | _OTHER_KEYS))
        raise ImproperlyConfigured(f"unknown FOOTFALL keys {sorted(unknown)}; allowed: {allowed}")
    return config


def _options(config: dict[str, Any]) -> Options:
    kwargs = {_OPTION_KEYS[k]: v for k, v in config.items() if k in _OPTION_KEYS}
    exclude = list(kwargs.get("exclude", ()))
    static_url = getattr(settings, "STATIC_URL", None)
    if kwargs.get("exclude_static", True) and isinstance(static_url, str):
        if static_url.startswith("/") and len(static_url) > 1:
            exclude.append(static_url.rstrip("/") + "/*")
    kwargs["exclude"] = tuple(exclude)
    kwargs["include"] = tuple(kwargs.get("include", ()))
    try:
        return Options(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(f"settings.FOOTFALL: {exc}") from exc


def configured_tracker() -> Tracker:
    """The tracker `settings.FOOTFALL` describes, built once per configuration."""
    config = load_settings()
    sinks = config.get("STORES", config.get("SINKS"))
    if sinks is None:
        registered = _registry.get("default")
        if registered is not None:
            return registered
        sinks = [default_url()]
    privacy = dict(config.get("PRIVACY") or {})
    key = repr((sinks, privacy, config.get("SITE", "")))
    with _lock:
        tracker = _trackers.get(key)
        if tracker is None:
            tracker = build_tracker(list(sinks), site=config.get("SITE", ""), **privacy)
            _trackers[key] = tracker
            if config.get("REGISTER", True) and "default" not in _registry:
                register_tracker(tracker)
    return tracker


def reset() -> None:
    """Close and forget the trackers built from settings (tests, reloads)."""
    with _lock:
        trackers = list(_trackers.values())
        _trackers.clear()
    for tracker in trackers:
        if _registry.get("default") is tracker:
            _registry.pop("default", None)
        tracker.close()


def _user_id(request: HttpRequest, load: bool) -> str | None:
    user = request.__dict__.get("user")
    if user is None:
        return None
    if isinstance(user, LazyObject) and user._wrapped is empty and not load:
        return None  # nobody needed the user: do not pay a query to find out
    if not getattr(user, "is_authenticated", False):
        return None
    pk = getattr(user, "pk", None)
    return str(pk) if pk is not None else None


class _AsyncBody:
    """An async streaming body, counted; records once when it ends or closes."""

    def __init__(self, inner: Any, done: Callable[[int, bool], None]) -> None:
        self._inner = inner
        self._done: Callable[[int, bool], None] | None = done
        self._sent = 0

    async def _iterate(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                self._sent += len(chunk)
                yield chunk
        except Exception:
            self._finish(True)
            raise
        self._finish(False)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()

    def _finish(self, failed: bool) -> None:
        done, self._done = self._done, None
        if done is not None:
            done(self._sent, failed)

    def close(self) -> None:
        self._finish(False)


class FootfallMiddleware:
    """Tracks every request of a Django project (sync or async).

    While the views handle a tracked request, the request is bound
    (`footfall.origin`): events they emit count as the request's visitor.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        config = load_settings()
        self.options = _options(config)
        self.load_user = bool(config.get("LOAD_USER", False))
        self.tracker = configured_tracker()
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self._async:
            return self.__acall__(request)
        pending = self._begin(request)
        if pending is None:
            return self.get_response(request)
        token = bind(pending)  # events the views emit meanwhile are this request's visitor's
        try:
            response = self.get_response(request)
        except Exception:
            self._send(pending, request, 500, "", 0)
            raise
        finally:
            unbind(token)
        return self._finish(pending, request, response)

    async def __acall__(self, request: HttpRequest) -> Any:
        pending = self._begin(request)
        get_response: Callable[[HttpRequest], Awaitable[Any]] = self.get_response
        if pending is None:
            return await get_response(request)
        token = bind(pending)
        try:
            response = await get_response(request)
        except Exception:
            self._send(pending, request, 500, "", 0)
            raise
        finally:
            unbind(token)
        return self._finish(pending, request, response)

    def _begin(self, request: HttpRequest) -> Pending | None:
        return from_environ(request.META, self.options, scheme=request.scheme, path=request.path)

    def _finish(
        self, pending: Pending, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if pending.set_cookie:
            response.set_cookie(
                self.options.cookie_name,
                pending.visitor_id,
                max_age=self.options.cookie_max_age,
                path="/",
                secure=pending.scheme == "https",
                httponly=True,
                samesite="Lax",
            )
        status = response.status_code
        content_type = str(response.get("Content-Type", "")).lower()
        if not getattr(response, "streaming", False):
            content = getattr(response, "content", b"")
            self._send(pending, request, status, content_type, len(content))
            return response

        def _done(sent: int, failed: bool) -> None:
            self._send(pending, request, 500 if failed else status, content_type, sent)

        stream: Any = response
        if getattr(response, "is_async", False):
            stream.streaming_content = _AsyncBody(stream.streaming_content, _done)
        else:
            stream.streaming_content = _Body(_iter(stream.streaming_content), _done)
        return response

    def _send(
        self, pending: Pending, request: HttpRequest, status: int, content_type: str, size: int
    ) -> None:
        try:
            user = _user_id(request, self.load_user)
            if user:
                pending.user_id = user
            deliver(self.tracker, pending.finish(status, content_type, size), self.options)
            run_inline(pending, request)
        except Exception:
            log.exception("footfall: could not record a request")


def _iter(content: Any) -> Iterator[bytes]:
    return iter(content)
