"""UTM parameters, host and path from `event.url` where the source left them empty.

Browser events usually carry only the page URL; server events carry host and
path already. Values are cut to the event's short-field limit, since they
come from anyone's query string.
"""

from __future__ import annotations

import functools
from urllib.parse import parse_qsl, urlsplit

from footfall.event import MAX_SHORT, Event

__all__ = ["UTM_FIELDS", "UtmProcessor"]

UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
_UTM = frozenset(UTM_FIELDS)
MAX_QUERY = 4_000  # characters of query string looked at


CACHE_SIZE = 10_000  # distinct URLs remembered: a site has few pages and campaigns


@functools.lru_cache(maxsize=CACHE_SIZE)
def parse_url(url: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """(host, path, ((utm field, value), ...)) of a URL; empty parts if unparseable."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "", "", ()
    utm: list[tuple[str, str]] = []
    if "utm_" in parts.query:
        for key, value in parse_qsl(parts.query[:MAX_QUERY], keep_blank_values=False):
            key = key.lower()
            if key in _UTM and value.strip():
                utm.append((key, value.strip()[:MAX_SHORT]))
    return host[:MAX_SHORT], parts.path[:MAX_SHORT], tuple(utm)


class UtmProcessor:
    """Fills utm_* (and host, path) from the URL; never overwrites a set field."""

    def __call__(self, event: Event) -> Event:
        url = event.url
        if not url:
            return event
        host, path, utm = parse_url(url)
        if not event.host and host:
            event.host = host
        if not event.path and path:
            event.path = path
        for key, value in utm:
            if not getattr(event, key):
                setattr(event, key, value)
        return event

    def __repr__(self) -> str:
        return "UtmProcessor()"
