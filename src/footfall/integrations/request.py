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

import ipaddress
import json
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import translate
from time import perf_counter
from typing import Any
from urllib.parse import quote

from footfall.errors import ValidationError
from footfall.event import (
    MAX_PROP_VALUE,
    MAX_REFERRER,
    MAX_SHORT,
    MAX_URL,
    Event,
    check_fields,
)
from footfall.integrations import visits

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

DEFAULT_COOKIE_NAME = "footfall_visit"
# Seconds. The key names a browser; visits inside it are split by idle time.
DEFAULT_COOKIE_MAX_AGE = 365 * 24 * 3600
_PATH_CACHE_MAX = 10_000  # distinct paths remembered by a PathFilter before it starts over
_KEY_RE = re.compile(r"[A-Za-z0-9_-]{16,64}\Z")

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


# -- client address ------------------------------------------------------------
def _clean_ip(raw: str) -> str:
    """A bare, valid IP from a header hop (`1.2.3.4:80`, `"[::1]:443"`), or ''."""
    value = raw.strip().strip('"')
    if value.startswith("["):
        value = value[1 : value.find("]")] if "]" in value else ""
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]  # IPv4 with a port
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return ""  # "unknown", "_hidden" or garbage: no address rather than a wrong one


def _forwarded_for(header: str) -> list[str]:
    """The `for=` values of an RFC 7239 `Forwarded` header, in order."""
    hops: list[str] = []
    for element in header.split(","):
        for pair in element.split(";"):
            key, sep, value = pair.partition("=")
            if sep and key.strip().lower() == "for":
                hops.append(value)
    return hops


def client_ip(
    remote_addr: str,
    forwarded: str,
    trusted_proxies: int,
    proxy_header: str = "x-forwarded-for",
) -> str:
    """The client address, believing proxy headers only as far as configured.

    With `trusted_proxies = 0` (the default) only the socket peer counts, so a
    client cannot set its own address by sending the header. With N trusted
    proxies in front of the app, each appending the address it saw, the
    client is the N-th hop counted from the right; anything further left was
    written by the client and is ignored. `forwarded` is the value of the one
    header the proxies set (`proxy_header`: `x-forwarded-for` or `forwarded`);
    reading only that one stops a client from smuggling the other.
    """
    if trusted_proxies <= 0 or not forwarded:
        return remote_addr
    if proxy_header == "forwarded":
        hops = _forwarded_for(forwarded)
    else:
        hops = forwarded.split(",")
    if len(hops) < trusted_proxies:
        return remote_addr  # the request skipped a proxy we expect: trust only the peer
    return _clean_ip(hops[-trusted_proxies])


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


# -- the visit cookie ----------------------------------------------------------
def new_visit_key() -> str:
    """A random, unguessable key: 128 bits, URL- and cookie-safe."""
    return secrets.token_urlsafe(16)


def valid_key(value: str | None) -> bool:
    """Whether a cookie value could be a key we issued (else a new one is made)."""
    return bool(value) and _KEY_RE.match(value or "") is not None


def read_cookie(header: str | None, name: str) -> str | None:
    """One cookie's value from a `Cookie` header, without parsing the rest."""
    if not header or name not in header:
        return None
    for part in header.split(";"):
        key, sep, value = part.partition("=")
        if sep and key.strip() == name:
            return value.strip().strip('"')
    return None


def cookie_header(name: str, value: str, max_age: int, secure: bool) -> str:
    """The `Set-Cookie` value: first party, HttpOnly, SameSite=Lax, Secure on https."""
    attrs = f"{name}={value}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Lax"
    return attrs + "; Secure" if secure else attrs


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
class Pending:
    """A tracked request between its headers and the end of its response.

    The `Event` is built when the request comes in, from headers only, with
    every string clipped to the event limits and NUL-free (because
    `Tracker.send` does not validate); `event()` completes it once status,
    size and duration are known. Building it up front means one object and
    no copying of fields; its `ts` is when the request arrived.
    Integrations set `ev.user_id`, `ev.visitor_id` and `ev.props` on the way.
    """

    __slots__ = ("ev", "props_safe", "scheme", "set_cookie", "start")

    def __init__(
        self,
        method: str,
        scheme: str,
        host: str,
        path: str,
        query: str,
        referrer: str,
        user_agent: str,
        language: str,
        ip: str,
        site: str,
    ) -> None:
        self.start = perf_counter()
        # One scan for NULs over everything (PostgreSQL refuses them in text,
        # which would fail a whole batch); then cheap slices, which return the
        # string itself when it is already short enough.
        if "\x00" in f"{method}{host}{path}{query}{referrer}{user_agent}{language}{site}":
            method, host, path, query = (x.replace("\x00", "") for x in (method, host, path, query))
            referrer, user_agent, language, site = (
                x.replace("\x00", "") for x in (referrer, user_agent, language, site)
            )
        url = f"{scheme}://{host}{quote_path(path)}"
        if site:
            site = site[:MAX_SHORT]
        elif host.startswith("[") or host.count(":") > 1:
            site = hostname(host[:MAX_SHORT])
        else:
            site = host[:MAX_SHORT].partition(":")[0]
        self.ev = Event(
            name="request",
            site=site,
            source="server",
            url=(f"{url}?{query}" if query else url)[:MAX_URL],
            host=host[:MAX_SHORT],
            path=path[:MAX_SHORT],
            referrer=referrer[:MAX_REFERRER],
            method=method[:16],
            ip=ip,
            user_agent=user_agent[:MAX_URL],
            language=language[:MAX_SHORT],
        )
        self.scheme = scheme
        self.set_cookie = ""  # a Set-Cookie value to add to the response, if any
        self.props_safe = False  # set by an integration that built props from safe values only

    def event(
        self,
        status: int,
        content_type: str,
        nbytes: int,
        classify: Classifier,
        *,
        name: str | None = None,
    ) -> Event:
        """The finished request as an event (status 500 when the app raised)."""
        ev = self.ev
        ev.duration_ms = round((perf_counter() - self.start) * 1000.0, 3)
        status = status if 0 <= status <= 999 else 0
        ev.status = status
        ev.bytes = nbytes if nbytes > 0 else 0
        ev.name = name or classify(ev.method, status, content_type)
        if ev.user_id:
            ev.user_id = clip(ev.user_id, MAX_SHORT)
        if ev.props and not self.props_safe:
            ev.props = safe_props(ev.props)
        return ev


def deliver(tracker: Any, event: Event, options: Options) -> bool:
    """Queue `event` on `tracker`; the tracker's `site` wins over the host name."""
    if not options.site and tracker.site:
        event.site = tracker.site
    return bool(tracker.send(event))


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
    ev = pending.ev
    key = ev.visitor_id or f"{ev.site}\x00{ev.ip}\x00{ev.user_agent}"
    visits.run_plugins(plugins, _inline_visits.touch(key), request)


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
