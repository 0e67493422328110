"""The request extractor every web integration shares.

WSGI, ASGI, Flask and Django differ in how they hand over a request, but
the decisions are the same everywhere, so they live here once: which client
address to believe, which paths to track, whether a response counts as a
page view, what the visit cookie looks like, and how to turn it all into an
`Event` without doing more than reading headers. Everything here runs on the
request path, so it is built for speed: compiled patterns, a bounded result
cache, no parsing beyond splitting a header.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from fnmatch import translate
from time import perf_counter, time_ns
from typing import Any
from urllib.parse import quote

import msgspec
from uuid_utils import uuid7

from footfall.clientip import client_ip
from footfall.errors import ValidationError
from footfall.event import (
    MAX_PROP_VALUE,
    MAX_REFERRER,
    MAX_SHORT,
    MAX_URL,
    Event,
    check_fields,
)
from footfall.integrations.cookie import (
    DEFAULT_COOKIE_MAX_AGE,
    DEFAULT_COOKIE_NAME,
    cookie_header,
    new_visit_key,
    read_cookie,
    valid_key,
)
from footfall.processors import visit_plugins as visits

__all__ = [
    "DEFAULT_COOKIE_MAX_AGE",
    "DEFAULT_COOKIE_NAME",
    "STATIC_PATTERNS",
    "Classifier",
    "Options",
    "PathFilter",
    "Pending",
    "classify",
    "client_ip",
    "clip",
    "cookie_header",
    "deliver",
    "hostname",
    "is_opted_out",
    "last_hop",
    "new_visit_key",
    "quote_path",
    "read_cookie",
    "run_inline",
    "safe_props",
    "valid_key",
]

# Paths never worth a row by default: assets a page pulls in, not pages.
STATIC_PATTERNS: tuple[str, ...] = (
    "/static/*",
    "/favicon.ico",
    "/robots.txt",
    "/apple-touch-icon*",
    "*.css",
    "*.js",
    "*.mjs",
    "*.map",
    "*.png",
    "*.jpg",
    "*.jpeg",
    "*.gif",
    "*.svg",
    "*.ico",
    "*.webp",
    "*.avif",
    "*.woff",
    "*.woff2",
    "*.ttf",
    "*.otf",
    "*.eot",
    "*.mp4",
    "*.webm",
    "*.mp3",
)

_PATH_CACHE_MAX = 10_000  # distinct paths remembered by a PathFilter before it starts over

Pattern = str | re.Pattern[str]
Classifier = Callable[[str, int, str], str]


def clip(value: str, limit: int) -> str:
    """`value` cut to `limit` characters with NULs removed (headers are untrusted)."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    return value if len(value) <= limit else value[:limit]


# -- paths ---------------------------------------------------------------------
def _compile(patterns: Iterable[Pattern]) -> re.Pattern[str] | None:
    parts: list[str] = []
    for p in patterns:
        if isinstance(p, re.Pattern):
            parts.append(f"(?:{p.pattern})")
        elif isinstance(p, str) and p:
            # fnmatch's translate anchors at both ends; `*` also crosses `/`.
            parts.append(f"(?:{translate(p)})")
        else:
            raise TypeError(f"path pattern must be a glob string or compiled regex, not {p!r}")
    return re.compile("|".join(parts)) if parts else None


class PathFilter:
    """Decides, per path, whether a request is tracked.

    Tracked when the path matches an `include` pattern (or there are none),
    matches no `exclude` pattern, and is not a static file (unless
    `exclude_static` is off). Patterns are shell globs (`/admin/*`, `*.json`)
    or compiled regular expressions, matched against the whole path.
    """

    def __init__(
        self,
        include: Iterable[Pattern] = (),
        exclude: Iterable[Pattern] = (),
        *,
        exclude_static: bool = True,
    ) -> None:
        self._include = _compile(include)
        excluded = list(exclude)
        if exclude_static:
            excluded.extend(STATIC_PATTERNS)
        self._exclude = _compile(excluded)
        self._cache: dict[str, bool] = {}

    def __call__(self, path: str) -> bool:
        cached = self._cache.get(path)
        if cached is not None:
            return cached
        ok = (self._include is None or self._include.match(path) is not None) and (
            self._exclude is None or self._exclude.match(path) is None
        )
        if len(self._cache) >= _PATH_CACHE_MAX:
            self._cache.clear()  # unbounded path spaces (ids in URLs) must not grow memory
        self._cache[path] = ok
        return ok


# -- client address (the rule itself is `footfall.clientip.client_ip`) ---------
def last_hop(header: str) -> str:
    """The right-most value of a comma-joined proxy header (set by our own proxy)."""
    return header.rsplit(",", 1)[-1].strip()


# -- classification and privacy ------------------------------------------------
def classify(method: str, status: int, content_type: str) -> str:
    """`pageview` for a successful HTML GET, `request` for everything else."""
    if (
        method == "GET"
        and 200 <= status < 300
        and (content_type.startswith("text/html") or content_type.startswith("application/xhtml"))
    ):
        return "pageview"
    return "request"


def is_opted_out(dnt: str | None, gpc: str | None) -> bool:
    """Whether `DNT: 1` or `Sec-GPC: 1` asks not to be tracked."""
    return (dnt is not None and dnt.strip() == "1") or (gpc is not None and gpc.strip() == "1")


# -- props ---------------------------------------------------------------------
def _coerce(value: Any, depth: int) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value if not isinstance(value, float) or value == value else None
    if isinstance(value, str):
        return clip(value, MAX_PROP_VALUE)
    if depth < 4 and isinstance(value, Mapping):
        items = list(value.items())[:50]
        return {clip(str(k), 100) or "_": _coerce(v, depth + 1) for k, v in items}
    if depth < 4 and isinstance(value, list | tuple):
        return [_coerce(v, depth + 1) for v in value[:100]]
    return clip(str(value), MAX_PROP_VALUE)


def safe_props(props: dict[str, Any]) -> dict[str, Any]:
    """`props` as it is when valid, else coerced into the event limits.

    Application code fills `g.track_var` and view args with anything (UUIDs,
    dates, models); a value the sinks cannot encode would fail the whole
    batch in the worker, so odd values become strings here instead.
    """
    try:
        check_fields({"props": props})
        return props
    except ValidationError:
        coerced = _coerce(props, 0)
        try:
            check_fields({"props": coerced})
            return dict(coerced)
        except ValidationError:
            return {"props_error": clip(json.dumps(coerced, default=str), MAX_PROP_VALUE)}


# -- options -------------------------------------------------------------------
@dataclass
class Options:
    """Settings shared by every integration; see docs/integrations.md."""

    site: str = ""
    include: tuple[Pattern, ...] = ()
    exclude: tuple[Pattern, ...] = ()
    exclude_static: bool = True
    trusted_proxies: int = 0
    proxy_header: str = "x-forwarded-for"
    cookie: bool = False
    cookie_name: str = DEFAULT_COOKIE_NAME
    cookie_max_age: int = DEFAULT_COOKIE_MAX_AGE
    honor_dnt: bool = False
    classify: Classifier = classify
    path_filter: PathFilter = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.include = tuple(self.include)
        self.exclude = tuple(self.exclude)
        header = self.proxy_header.lower()
        if header not in ("x-forwarded-for", "forwarded"):
            raise ValueError("proxy_header must be 'x-forwarded-for' or 'forwarded'")
        self.proxy_header = header
        if self.trusted_proxies < 0:
            raise ValueError("trusted_proxies must be >= 0")
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", self.cookie_name):
            raise ValueError("cookie_name must be 1-64 letters, digits, '_', '-' or '.'")
        self.path_filter = PathFilter(
            self.include, self.exclude, exclude_static=self.exclude_static
        )


# -- the event -----------------------------------------------------------------


class Pending(msgspec.Struct, gc=False):
    """A tracked request: the raw values the request path read, nothing more.

    The request thread only copies references (header strings, two clock
    readings, status, size) into this record and queues it; the worker
    thread turns it into an `Event` (`to_event`): the id and `ts` from the
    arrival clock, every string clipped to the event limits and NUL-free
    (because `Tracker.send` does not validate), the URL quoted, the site
    derived, the request classified. A `msgspec.Struct` without GC tracking
    because it is built once per request and may wait in the queue for a
    second: construction is one C call, and thousands queued add nothing to
    the garbage collector's passes.

    Integrations set `user_id`, `visitor_id` and `props` on the way and call
    `finish` when the response ends; `event()` does both steps at once.
    """

    method: str
    scheme: str
    host: str
    path: str
    query: str
    referrer: str
    user_agent: str
    language: str
    ip: str
    site: str
    start: float = msgspec.field(default_factory=perf_counter)
    wall_ns: int = msgspec.field(default_factory=time_ns)  # `ts` and the id's time: arrival
    user_id: str = ""
    visitor_id: str = ""
    props: dict[str, Any] | None = None
    props_safe: bool = False  # set by an integration that built props from safe values only
    set_cookie: str = ""  # a Set-Cookie value to add to the response, if any
    end: float = 0.0
    status: int = 0
    content_type: str = ""
    nbytes: int = 0
    classify: Classifier = classify
    name: str = ""

    def origin_fields(self) -> dict[str, str]:
        """Who sent this request, as `to_event` will write it (`footfall.origin.Origin`).

        The integrations bind the request while the app handles it; an event
        emitted meanwhile takes these values where it has none, so the worker
        derives the request's visitor id (and visit) for it too. Cleaned as
        `to_event` cleans them, so both hash the very same inputs.
        """
        out = {"site": clip(self.site, MAX_SHORT) or hostname(clip(self.host, MAX_SHORT))}
        if self.ip:
            out["ip"] = clip(self.ip, MAX_SHORT)
        if self.user_agent:
            out["user_agent"] = clip(self.user_agent, MAX_URL)
        if self.visitor_id:
            out["visitor_id"] = clip(self.visitor_id, MAX_SHORT)
        return {k: v for k, v in out.items() if v}

    def finish(self, status: int, content_type: str, nbytes: int) -> Pending:
        """The response ended: note status, type and size (status 500 when the app raised)."""
        self.end = perf_counter()
        self.status = status
        self.content_type = content_type
        self.nbytes = nbytes
        return self

    def event(
        self,
        status: int,
        content_type: str,
        nbytes: int,
        classify: Classifier,
        *,
        name: str | None = None,
    ) -> Event:
        """`finish` and `to_event` at once (what a caller that wants the event uses)."""
        self.finish(status, content_type, nbytes)
        self.classify = classify
        self.name = name or ""
        return self.to_event()

    def to_event(self) -> Event:
        """The finished request as a valid `Event` (runs on the worker thread)."""
        method, host, path, query = self.method, self.host, self.path, self.query
        referrer, user_agent, language, site = (
            self.referrer,
            self.user_agent,
            self.language,
            self.site,
        )
        # One scan for NULs over everything (PostgreSQL refuses them in text,
        # which would fail a whole batch); then cheap slices, which return the
        # string itself when it is already short enough.
        if "\x00" in f"{method}{host}{path}{query}{referrer}{user_agent}{language}{site}":
            method, host, path, query = (x.replace("\x00", "") for x in (method, host, path, query))
            referrer, user_agent, language, site = (
                x.replace("\x00", "") for x in (referrer, user_agent, language, site)
            )
        base = _bases.get((self.scheme, host, path))
        if base is None:
            base = _base(self.scheme, host, path)
        url, site_of_host = base
        site = site[:MAX_SHORT] if site else site_of_host
        status = self.status if 0 <= self.status <= 999 else 0
        method = method[:16]
        wall_ns = self.wall_ns
        props = self.props
        if props and not self.props_safe:
            props = safe_props(props)
        name = self.name
        if not name:
            if self.classify is classify:  # the default, inlined: one call less per event
                ctype = self.content_type
                html = ctype.startswith("text/html") or ctype.startswith("application/xhtml")
                name = "pageview" if method == "GET" and 200 <= status < 300 and html else "request"
            else:
                name = self.classify(method, status, self.content_type)
        took = self.end - self.start
        ip = self.ip
        if ip and (len(ip) > MAX_SHORT or "\x00" in ip):
            ip = clip(ip, MAX_SHORT)
        return Event(
            name=name,
            id=str(uuid7(nanoseconds=wall_ns)),
            ts=datetime.fromtimestamp(wall_ns / 1e9, timezone.utc),
            site=site,
            source="server",
            url=(f"{url}?{query}" if query else url)[:MAX_URL],
            host=host[:MAX_SHORT],
            path=path[:MAX_SHORT],
            referrer=referrer[:MAX_REFERRER],
            method=method,
            status=status,
            duration_ms=round(took * 1000.0, 3) if took > 0.0 else 0.0,
            bytes=self.nbytes if self.nbytes > 0 else 0,
            visitor_id=clip(self.visitor_id, MAX_SHORT) if self.visitor_id else "",
            user_id=clip(self.user_id, MAX_SHORT) if self.user_id else "",
            ip=ip,
            user_agent=user_agent[:MAX_URL],
            language=language[:MAX_SHORT],
            props=props or {},
        )


def deliver(tracker: Any, pending: Pending | Event, options: Options) -> bool:
    """Queue a finished request on `tracker`; the tracker's `site` wins over the host name.

    A `Pending` goes to the queue as it is (`Tracker.defer`) and becomes an
    `Event` on the worker thread; a tracker without `defer` gets the event.
    """
    if isinstance(pending, Event):
        if not options.site and tracker.site:
            pending.site = tracker.site
        return bool(tracker.send(pending))
    if not options.site and tracker.site:
        pending.site = tracker.site
    pending.classify = options.classify
    defer = getattr(tracker, "defer", None)
    if defer is None:
        return bool(tracker.send(pending.to_event()))
    return bool(defer(pending))


_inline_visits: Any = None  # a VisitTracker, made when the first inline plugin needs one


def run_inline(pending: Pending, request: Any) -> None:
    """Run inline visit plugins (if any are enabled) with the framework request.

    Cheap when none are: one tuple look-up. The visit comes from an
    in-process `VisitTracker` keyed by the cookie key, else by IP and user
    agent; the stored visit id is still decided by the worker.
    """
    if not visits.visit_plugins():
        return
    plugins = visits.inline_plugins()
    if not plugins:
        return
    global _inline_visits
    if _inline_visits is None:
        _inline_visits = visits.VisitTracker()
    site = pending.site or hostname(pending.host)
    key = pending.visitor_id or f"{site}\x00{pending.ip}\x00{pending.user_agent}"
    visits.run_plugins(plugins, _inline_visits.touch(key), request)


_BASES_MAX = 10_000  # distinct (scheme, host, path) remembered before starting over
_BASES_KEY_MAX = 256  # longer host + path are not cached: a client sends those, memory is ours
_bases: dict[tuple[str, str, str], tuple[str, str]] = {}


def _base(scheme: str, host: str, path: str) -> tuple[str, str]:
    """(URL without query, site of the host) for a NUL-free request; cached.

    Busy apps serve the same few hundred pages over and over; quoting the
    path and splitting the host per event was a tenth of building one.
    """
    url = f"{scheme}://{host}{quote_path(path)}"
    if host.startswith("[") or host.count(":") > 1:
        site = hostname(host[:MAX_SHORT])
    else:
        site = host[:MAX_SHORT].partition(":")[0]
    result = (url, site)
    if len(host) + len(path) > _BASES_KEY_MAX:
        return result
    if len(_bases) >= _BASES_MAX:
        _bases.clear()  # unbounded path spaces (ids in URLs) must not grow memory
    _bases[(scheme, host, path)] = result
    return result


_SAFE_PATH = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-._~%!$&'()*+,;=:@"
)


def quote_path(path: str) -> str:
    """`path` percent-encoded for a URL; the common all-safe path costs one scan."""
    if path.isascii() and _SAFE_PATH.issuperset(path):
        return path
    return quote(path, safe="/-._~%!$&'()*+,;=:@")


def hostname(host: str) -> str:
    """`host` without its port (`example.com:8000` -> `example.com`, IPv6 kept)."""
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1] if end > 0 else host
    return host.split(":", 1)[0] if host.count(":") == 1 else host
