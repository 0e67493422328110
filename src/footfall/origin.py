"""The tracked request being handled right now, for the events emitted during it.

A custom event an app emits from a view (`footfall.emit("shop.checkout")`)
is the act of the person whose request the view is handling, so it should
count as that request's visitor and visit. The request's own event gets its
visitor id in the worker, from a salted hash of the site, the IP and the
user agent (`footfall.processors.visitor`), and its visit from that id; the
request path cannot compute the id itself (the salt lives in the store). So
the custom event carries the same raw inputs instead: the web integrations
bind the request they track for as long as the app handles it, and
`Tracker.emit` fills an event's empty `site`, `ip`, `user_agent` and
`visitor_id` (the cookie mode's key) from it. The worker then derives the
same visitor id for both events and the visits step puts them in the same
visit, on whichever path the events travel (a store, `HttpSink` to a
collector, Celery), as long as the same store's salts are used.

The IP and user agent travel raw, as the request event's do, and the privacy
step drops the IP before storage. A `ContextVar` keeps the binding right per
thread and per asyncio task; this module imports nothing from footfall, so
the tracker below the integrations can read what they set.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar, Token
from typing import Protocol

__all__ = ["ORIGIN_FIELDS", "Origin", "bind", "current", "unbind"]

# The event fields an origin may fill: who sent the request, nothing about the page.
ORIGIN_FIELDS = ("site", "ip", "user_agent", "visitor_id")


class Origin(Protocol):
    """A tracked request as the source of an event's visitor."""

    def origin_fields(self) -> Mapping[str, str]:
        """Values for `ORIGIN_FIELDS` (only those the request has), valid as event fields."""
        ...


_current: ContextVar[Origin | None] = ContextVar("footfall_origin", default=None)


def bind(origin: Origin | None) -> Token[Origin | None]:
    """Make `origin` the request of this thread or task until `unbind(token)`."""
    return _current.set(origin)


def unbind(token: Token[Origin | None]) -> None:
    """End a `bind`; tolerant of a token from another context (a generator resumed elsewhere)."""
    try:
        _current.reset(token)
    except ValueError:
        _current.set(None)


def current() -> Origin | None:
    """The request being handled here, if an integration bound one."""
    return _current.get()
