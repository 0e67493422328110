"""Who is doing things: a Snowplow-style subject, set per tracker or per call."""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["Subject"]

# Subject attribute -> Event field.
_FIELD_MAP: tuple[tuple[str, str], ...] = (
    ("user_id", "user_id"),
    ("platform", "platform"),
    ("language", "language"),
    ("timezone", "timezone"),
    ("screen", "screen"),
    ("ip", "ip"),
    ("useragent", "user_agent"),
)


class Subject(msgspec.Struct, kw_only=True):
    """Attributes of the user or device an event is about.

    Values set here fill the matching event fields only where the emit call did
    not set them itself, so a per-call subject overrides the tracker's, and an
    explicit field overrides both.
    """

    user_id: str = ""
    platform: str = ""
    language: str = ""
    timezone: str = ""
    screen: str = ""
    ip: str = ""
    useragent: str = ""

    def fields(self) -> dict[str, Any]:
        """The non-empty attributes as event fields."""
        out: dict[str, Any] = {}
        for attr, field in _FIELD_MAP:
            value = getattr(self, attr)
            if value:
                out[field] = value
        return out
