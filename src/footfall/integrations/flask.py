"""Flask extension with the surface of Flask-Track-Usage 2.0.

An app written for Flask-Track-Usage switches by changing one import::

    from footfall.integrations.flask import TrackUsage   # was: from flask_track_usage import ...

    app.config["TRACK_USAGE_INCLUDE_OR_EXCLUDE_VIEWS"] = "include"
    t = TrackUsage(app, [SQLStorage(engine=engine), "sqlite:///./footfall.db"])

    @t.include
    @app.route("/")
    def index():
        g.track_var["optional"] = "something"
        return "Hello"

Flask-Track-Usage called its storages in `after_request` (one SQL insert,
and with `TRACK_USAGE_USE_FREEGEOIP` one HTTP request, per page view). Here
the hooks only read headers and enqueue an event; storing, user-agent
parsing and geo (from an offline database, never the network) run in the
background worker, which also hands Flask-Track-Usage storages their
records (`footfall.integrations.flask_track_usage`), so their tables,
hooks and `get_usage` carry on.

Include/exclude follows Flask-Track-Usage 2.0's code and tests: in
`include` mode only views marked with `@t.include` (or in an included
blueprint) are tracked; in `exclude` mode (the default) every view is
tracked except those marked with `@t.exclude` or in an excluded blueprint.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Sequence
from time import perf_counter
from typing import Any, TypeVar

from footfall.errors import ConfigurationError
from footfall.integrations import not_installed, tracker_source
from footfall.integrations.flask_track_usage import FootfallStorage, StorageSink, is_ftu_storage
from footfall.integrations.request import Options, Pending, deliver, run_inline
from footfall.integrations.wsgi import _Body, from_environ
from footfall.origin import bind, unbind
from footfall.processors import Processor
from footfall.processors import visit_plugins as visits
from footfall.stores.base import Store
from footfall.tracker import Tracker, get_tracker

try:
    from flask import (
        Blueprint,
        Flask,
        Response,
        g,
        got_request_exception,
        has_request_context,
        request,
    )
except ImportError as exc:  # pragma: no cover - exercised only without flask
    raise not_installed("Flask", "flask", exc) from exc

__all__ = ["FootfallStorage", "TrackUsage"]

log = logging.getLogger("footfall.integrations")

F = TypeVar("F", bound=Callable[..., Any])

_START = "footfall.start"  # the environ key holding the request's arrival (perf_counter)
_PENDING = "footfall.pending"  # the environ key of a request read early, for an event's origin


def _storage_list(storage: Any) -> list[Any]:
    """Flask-Track-Usage took one storage or a list; so do we."""
    if storage is None:
        return []
    if isinstance(storage, str) or not isinstance(storage, Iterable):
        return [storage]
    return list(storage)


def _check_sink(obj: Any) -> None:
    if isinstance(obj, str | Store) or (hasattr(obj, "write") and hasattr(obj, "close")):
        return
    raise ConfigurationError(
        f"{obj!r} is not a footfall sink, store or store URL, nor a Flask-Track-Usage "
        "storage: pass e.g. 'sqlite:///./footfall.db'"
    )


class TrackUsage:
    """Tracks the requests of a Flask app (Flask-Track-Usage 2.0 surface).

    `storage` is a sink, store or store URL, a Flask-Track-Usage storage
    (fed its records from the background worker: `StorageSink`), or a list
    of them, where Flask-Track-Usage took its storages; without it, `tracker` or else the
    global `footfall.get_tracker()` receives the events. Keyword options are
    those of the WSGI middleware; the `FOOTFALL_*` config keys
    (`FOOTFALL_SITE`, `FOOTFALL_TRUSTED_PROXIES`, `FOOTFALL_HONOR_DNT`,
    `FOOTFALL_INCLUDE_PATHS`, `FOOTFALL_EXCLUDE_PATHS`,
    `FOOTFALL_EXCLUDE_STATIC`) set them from configuration.
    """

    def __init__(
        self,
        app: Flask | None = None,
        storage: Any = None,
        _fake_time: Any = None,
        *,
        tracker: Tracker | None = None,
        processors: Sequence[Processor] | None = None,
        get_user_id: Callable[[], str | None] | None = None,
        **options: Any,
    ) -> None:
        self._exclude_views: set[Callable[..., Any]] = set()
        self._include_views: set[Callable[..., Any]] = set()
        self._exclude_blueprints: set[str] = set()
        self._include_blueprints: set[str] = set()
        self._tracker = tracker
        self._processors = processors
        self._options = options
        self.get_user_id = get_user_id
        self._fake_time = _fake_time  # accepted for compatibility; events carry real times
        self.app: Flask | None = None
        self._type = "exclude"
        self.options = Options()
        self.get_tracker: Callable[[], Tracker] = lambda: self._tracker or _no_tracker()
        if app is not None:
            self.init_app(app, storage)

    # -- setup ----------------------------------------------------------------
    def init_app(self, app: Flask, storage: Any = None) -> None:
        """Read the config, build the tracker and register the request hooks."""
        config = app.config
        kind = config.get("TRACK_USAGE_INCLUDE_OR_EXCLUDE_VIEWS", "exclude")
        if kind not in ("include", "exclude"):
            raise NotImplementedError("You must set include or exclude type.")
        self.app = app
        self._type = kind
        opts = dict(self._options)
        option_keys = {
            "site": "FOOTFALL_SITE",
            "trusted_proxies": "FOOTFALL_TRUSTED_PROXIES",
            "proxy_header": "FOOTFALL_PROXY_HEADER",
            "honor_dnt": "FOOTFALL_HONOR_DNT",
            "include": "FOOTFALL_INCLUDE_PATHS",
            "exclude": "FOOTFALL_EXCLUDE_PATHS",
            "exclude_static": "FOOTFALL_EXCLUDE_STATIC",
            "cookie": "TRACK_USAGE_COOKIE",
        }
        for name, key in option_keys.items():
            if key in config and name not in opts:
                opts[name] = config[key]
        option_names = set(Options.__dataclass_fields__) - {"path_filter"}
        request_opts = {k: opts.pop(k) for k in list(opts) if k in option_names}
        for key in ("include", "exclude"):
            if key in request_opts:
                request_opts[key] = tuple(request_opts[key])
        self.options = Options(**request_opts)
        geo = config.get("TRACK_USAGE_USE_FREEGEOIP")
        if config.get("TRACK_USAGE_FREEGEOIP_ENDPOINT"):
            log.warning(
                "footfall: TRACK_USAGE_FREEGEOIP_ENDPOINT is ignored; geo comes from an "
                "offline database in the worker, never from the network"
            )
        # Flask-Track-Usage storages keep receiving its records, from the worker.
        sinks = [
            StorageSink(s, app.name) if is_ftu_storage(s) else s for s in _storage_list(storage)
        ]
        for sink in sinks:
            _check_sink(sink)
        if sinks and geo is not None and self._processors is None:
            opts.setdefault("geo", bool(geo))
        self.get_tracker = tracker_source(
            self._tracker,
            sinks,
            site=self.options.site,
            processors=self._processors,
            **(opts if sinks else {}),
        )
        if opts and not sinks:
            raise TypeError(f"processor options need a storage: {sorted(opts)}")
        # No before_request hook (each Flask hook costs a coroutine check per
        # request): the arrival time is noted by a wsgi_app wrapper, and
        # g.track_var exists from the app context's start (_with_track_var).
        app.wsgi_app = _timed(app.wsgi_app, self)  # type: ignore[method-assign]
        app.app_ctx_globals_class = _with_track_var(app.app_ctx_globals_class)
        app.after_request(self.after_request)
        # Only on an unhandled exception, so the common request pays nothing.
        got_request_exception.connect(self._on_exception, app, weak=False)
        app.extensions["footfall"] = self

    @property
    def tracker(self) -> Tracker:
        """The tracker receiving this app's events."""
        return self.get_tracker()

    # -- include / exclude ----------------------------------------------------
    def include(self, view: F) -> F:
        """Track `view` (in `include` mode). Usable as a decorator."""
        self._include_views.add(view)
        return view

    def exclude(self, view: F) -> F:
        """Do not track `view` (in `exclude` mode). Usable as a decorator."""
        self._exclude_views.add(view)
        return view

    def include_blueprint(self, blueprint: Blueprint) -> Blueprint:
        """Track every view of `blueprint` (in `include` mode), also ones added later."""
        self._include_blueprints.add(blueprint.name)
        return blueprint

    def exclude_blueprint(self, blueprint: Blueprint) -> Blueprint:
        """Track no view of `blueprint` (in `exclude` mode)."""
        self._exclude_blueprints.add(blueprint.name)
        return blueprint

    def _in_scope(self, req: Any) -> bool:
        app = self.app
        rule = req.url_rule
        endpoint = rule.endpoint if rule is not None else None
        view = app.view_functions.get(endpoint) if app is not None and endpoint else None
        if self._type == "include":
            if view in self._include_views:
                return True
            return bool(self._include_blueprints) and self._in_blueprints(
                req, self._include_blueprints
            )
        if self._type == "exclude":
            if view in self._exclude_views:
                return False
            return not (
                self._exclude_blueprints and self._in_blueprints(req, self._exclude_blueprints)
            )
        raise NotImplementedError("You must set include or exclude type.")

    @staticmethod
    def _in_blueprints(req: Any, names: set[str]) -> bool:
        return bool(req.blueprint) and any(b in names for b in req.blueprints)

    # -- hooks ----------------------------------------------------------------
    # Werkzeug's context-local proxies cost a look-up per attribute access, so
    # each hook resolves `request` and `g` once and works on the real objects.
    def before_request(self) -> None:
        """Make sure `g.track_var` exists (kept for Flask-Track-Usage callers).

        Not registered as a hook: `g.track_var` is created with the app
        context and the request is read in `after_request`.
        """
        ctx_g = g._get_current_object()
        if "track_var" not in ctx_g.__dict__:
            ctx_g.track_var = {}

    def after_request(self, response: Response) -> Response:
        """Enqueue the event, or arrange for it when a streamed body ends."""
        req = request._get_current_object()  # type: ignore[attr-defined]
        pending = self._begin(req)
        if pending is None:
            return response
        if pending.set_cookie:
            response.headers.add("Set-Cookie", pending.set_cookie)
        self._fill(pending, req)
        status = response.status_code
        # One pass over the headers instead of two case-insensitive look-ups.
        content_type, length = "", ""
        for key, value in response.headers:
            lower = key.lower()
            if lower == "content-type":
                content_type = value.lower()
            elif lower == "content-length":
                length = value
        if not response.is_streamed or response.direct_passthrough:
            size = int(length) if length and length.isdigit() else 0
            self._send(pending, status, content_type, size)
            return response

        def _done(sent: int, failed: bool) -> None:
            self._send(pending, 500 if failed else status, content_type, sent)

        response.response = _Body(response.response, _done)
        return response

    def _begin(self, req: Any) -> Pending | None:
        """This request's `Pending`, timed from its arrival; None when not tracked.

        Read here rather than on arrival so WSGI middleware inside ours
        (`ProxyFix`) has already set the client address and scheme.
        """
        environ = req.environ
        start = environ.pop(_START, None)
        early: Pending | None = environ.pop(_PENDING, None)
        if not self._in_scope(req):
            return None
        # Read already when the view emitted an event: the same record, the same cookie key.
        pending = early if early is not None else from_environ(environ, self.options)
        if pending is not None and start is not None:
            pending.wall_ns -= int((pending.start - start) * 1e9)
            pending.start = start
        return pending

    def _on_exception(self, sender: Flask, exception: BaseException, **extra: Any) -> None:
        """An unhandled exception: record a 500 now if Flask will re-raise it.

        When Flask propagates (testing, debug, `PROPAGATE_EXCEPTIONS`) no
        response is made and `after_request` never runs; otherwise Flask
        builds a 500 response and `after_request` records that.
        """
        propagate = sender.config.get("PROPAGATE_EXCEPTIONS")
        if propagate is None:
            propagate = sender.testing or sender.debug
        if not propagate:
            return
        req = request._get_current_object()  # type: ignore[attr-defined]
        pending = self._begin(req)
        if pending is not None:
            self._fill(pending, req)
            self._send(pending, 500, "", 0)

    # -- helpers --------------------------------------------------------------
    def _fill(self, pending: Pending, req: Any) -> None:
        """Props (track_var, blueprint, view args) and user, while `g` is alive."""
        try:
            track_var = _track_var()
            props: dict[str, Any] = dict(track_var) if track_var else {}
            rule = req.url_rule
            if rule is not None:
                endpoint = rule.endpoint
                props.setdefault("endpoint", endpoint)
                if "." in endpoint:
                    props.setdefault("blueprint", req.blueprint)
            if req.view_args:
                props.setdefault("view_args", dict(req.view_args))
            pending.props = props
            # Endpoint and blueprint names are short identifiers from code: no check needed.
            pending.props_safe = not track_var and not req.view_args
            user = self._user_id(req)
            if user:
                pending.user_id = str(user)
        except Exception:
            log.exception("footfall: could not read props or user of a request")
        if visits.visit_plugins():
            run_inline(pending, req)

    def _user_id(self, req: Any) -> str | None:
        if self.get_user_id is not None:
            return self.get_user_id()
        # Flask-Login's user, only when the view already loaded it (no extra query).
        if "flask_login" in sys.modules:
            user = g.get("_login_user")
            if user is not None and getattr(user, "is_authenticated", False):
                return str(user.get_id())
        environ = req.environ
        if "HTTP_AUTHORIZATION" in environ:
            auth = req.authorization
            if auth is not None and auth.username:
                return str(auth.username)
        user = environ.get("REMOTE_USER")
        return str(user) if user else None

    def _send(self, pending: Pending, status: int, content_type: str, size: int) -> None:
        try:
            deliver(self.get_tracker(), pending.finish(status, content_type, size), self.options)
        except Exception:
            log.exception("footfall: could not record a request")


class _Origin:
    """A request as `footfall.origin.Origin`, read only when the app emits an event.

    Read then rather than on arrival, like `_begin` reads it, so a WSGI
    middleware inside ours (`ProxyFix`) has already set the client address;
    the record is kept in the environ for `_begin`, so the request's own event
    and the app's events agree (in cookie mode, on the key of a new cookie too).
    """

    __slots__ = ("environ", "ext")

    def __init__(self, ext: TrackUsage, environ: dict[str, Any]) -> None:
        self.ext = ext
        self.environ = environ

    def origin_fields(self) -> dict[str, str]:
        if not has_request_context():
            return {}
        req = request._get_current_object()  # type: ignore[attr-defined]
        if req.environ is not self.environ or not self.ext._in_scope(req):
            return {}  # not the request bound here, or one this app does not track
        pending: Pending | None = self.environ.get(_PENDING)
        if pending is None:
            pending = from_environ(self.environ, self.ext.options)
            if pending is None:  # an excluded path, or Do-Not-Track honoured
                return {}
            self.environ[_PENDING] = pending
        return pending.origin_fields()


def _timed(wsgi_app: Callable[..., Any], ext: TrackUsage) -> Callable[..., Any]:
    """`wsgi_app` noting when each request arrived (one dict store), with the request
    bound as the origin of the events the app emits while handling it."""

    def footfall_wsgi_app(environ: dict[str, Any], start_response: Any) -> Any:
        environ[_START] = perf_counter()
        token = bind(_Origin(ext, environ))
        try:
            return wsgi_app(environ, start_response)
        finally:
            unbind(token)

    footfall_wsgi_app.__wrapped__ = wsgi_app  # type: ignore[attr-defined]
    return footfall_wsgi_app


def _with_track_var(base: type[Any]) -> type[Any]:
    """`app.app_ctx_globals_class` with `track_var = {}` set on creation.

    Flask-Track-Usage made `g.track_var` in a `before_request` hook; creating
    it with `g` itself costs less per request and needs no hook.
    """
    if getattr(base, "_footfall_track_var", False):
        return base

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        base.__init__(self, *args, **kwargs)
        self.__dict__["track_var"] = {}

    return type(base.__name__, (base,), {"__init__": __init__, "_footfall_track_var": True})


def _track_var() -> Any:
    """`g.track_var` without a second proxy look-up per key."""
    return g._get_current_object().__dict__.get("track_var")


def _no_tracker() -> Tracker:
    return get_tracker()
