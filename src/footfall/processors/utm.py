"""UTM parameters, host and path from `event.url` where the source left them empty.

Browser events usually carry only the page URL; server events carry host and
path already. Values are cut to the event's short-field limit, since they
come from anyone's query string.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from footfall.event import MAX_SHORT, Event

__all__ = ["UTM_FIELDS", "UtmProcessor"]

UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
_UTM = frozenset(UTM_FIELDS)
MAX_QUERY = 4_000  # characters of query string looked at


class UtmProcessor:
    """Fills utm_* (and host, path) from the URL; never overwrites a set field."""

    def __call__(self, event: Event) -> Event:
        url = event.url
        if not url:
            return event
        try:
            parts = urlsplit(url)
        except ValueError:
            return event
        if not event.host and parts.hostname:
            event.host = parts.hostname[:MAX_SHORT]
        if not event.path and parts.path:
            event.path = parts.path[:MAX_SHORT]
        query = parts.query
        if "utm_" not in query:
            return event
        for key, value in parse_qsl(query[:MAX_QUERY], keep_blank_values=False):
            key = key.lower()
            if key in _UTM and value and not getattr(event, key):
                setattr(event, key, value.strip()[:MAX_SHORT])
        return event

    def __repr__(self) -> str:
        return "UtmProcessor()"
