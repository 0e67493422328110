"""User agent to browser, version, OS, version and device class.

Uses ua-parser 1.x with its precompiled rules (`ua-parser-builtins`) and the
best resolver installed: the Rust one (`ua-parser-rs`, from the
`ua-parser[regex]` extra) where it installs, else google-re2, else pure
Python. A parse costs 100-700 us even in Rust, and a site sees few distinct
user agents, so results are cached in an LRU keyed by the UA string.

The device class is derived, not parsed: ua-parser names devices by model
("iPhone", "SM-X200"), while stats want desktop / mobile / tablet / bot.
"""

from __future__ import annotations

import functools
import threading
from typing import Any, NamedTuple

from footfall.event import MAX_SHORT, Event

__all__ = ["CACHE_SIZE", "Agent", "UserAgentProcessor", "resolver_name"]

CACHE_SIZE = 10_000  # distinct user agents remembered per process

_MOBILE_OS = frozenset(
    {"iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS", "Firefox OS", "Symbian OS"}
)
_DESKTOP_OS = frozenset(
    {
        "Windows",
        "Mac OS X",
        "macOS",
        "Linux",
        "Ubuntu",
        "Fedora",
        "Debian",
        "Chrome OS",
        "ChromeOS",
        "FreeBSD",
        "OpenBSD",
        "NetBSD",
        "Solaris",
    }
)
_TABLET_HINTS = ("ipad", "tablet", "kindle", "silk/", "playbook", "nexus 7", "nexus 9")


class Agent(NamedTuple):
    """What one user agent string says."""

    browser: str
    browser_version: str
    os: str
    os_version: str
    device: str


def _version(*parts: str | None) -> str:
    out: list[str] = []
    for p in parts:
        if not p:
            break
        out.append(p)
    return ".".join(out)


def _device_class(ua: str, os_family: str, device: Any) -> str:
    family = device.family if device is not None else ""
    brand = (device.brand or "") if device is not None else ""
    if family == "Spider":
        return "bot"
    low = ua.lower()
    if "Tablet" in brand or family == "iPad" or any(h in low for h in _TABLET_HINTS):
        return "tablet"
    if os_family == "Android" and "mobile" not in low:
        return "tablet"  # Android phones say "Mobile"; tablets do not
    if os_family in _MOBILE_OS or "mobi" in low:
        return "mobile"
    if os_family in _DESKTOP_OS:
        return "desktop"
    return ""


# A common browser, parsed once by `warm()`.
WARM_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)

_resolver: Any = None
_resolver_lock = threading.Lock()


def _get_resolver() -> Any:
    """One resolver per process: building it compiles every rule (~0.2 s)."""
    global _resolver
    if _resolver is None:
        with _resolver_lock:
            if _resolver is None:
                import ua_parser

                rust_or_re2 = ua_parser.BestAvailableResolver is not ua_parser.BasicResolver
                rules = ua_parser.load_lazy_builtins() if rust_or_re2 else ua_parser.load_builtins()
                _resolver = ua_parser.BestAvailableResolver(rules)
    return _resolver


def resolver_name() -> str:
    """Which ua-parser resolver this process uses ("regex" is the Rust one)."""
    import ua_parser

    return str(ua_parser.BestAvailableResolver.__module__).rsplit(".", 1)[-1]


def parse_agent(ua: str) -> Agent:
    """Parse one user agent string (uncached)."""
    from ua_parser import Domain

    result = _get_resolver()(ua, Domain.ALL)
    agent, os_, device = result.user_agent, result.os, result.device
    browser = agent.family if agent is not None and agent.family != "Other" else ""
    os_family = os_.family if os_ is not None and os_.family != "Other" else ""
    return Agent(
        browser[:MAX_SHORT],
        _version(agent.major, agent.minor)[:MAX_SHORT] if browser and agent else "",
        os_family[:MAX_SHORT],
        _version(os_.major, os_.minor)[:MAX_SHORT] if os_family and os_ else "",
        _device_class(ua, os_family, device),
    )


class UserAgentProcessor:
    """Fills browser, OS and device fields that are still empty."""

    def __init__(self, cache_size: int = CACHE_SIZE) -> None:
        # functools' LRU is thread-safe and written in C.
        self.lookup = functools.lru_cache(maxsize=cache_size)(parse_agent)

    def warm(self) -> None:
        """Build the resolver now (compiling the rules takes ~0.2-0.8 s of CPU).

        Called before a server forks its workers (gunicorn `--preload`), the
        children share the compiled rules instead of each paying for them.
        """
        parse_agent(WARM_AGENT)

    def __call__(self, event: Event) -> Event:
        ua = event.user_agent
        if not ua:
            return event
        a = self.lookup(ua)
        if not event.browser:
            event.browser = a.browser
            event.browser_version = event.browser_version or a.browser_version
        if not event.os:
            event.os = a.os
            event.os_version = event.os_version or a.os_version
        if not event.device or a.device == "bot":
            event.device = a.device or event.device
        return event

    def __repr__(self) -> str:
        return f"UserAgentProcessor(resolver={resolver_name()!r})"
