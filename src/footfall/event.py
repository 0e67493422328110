"""The one event model shared by every source, processor, sink and store.

`Event` is a `msgspec.Struct` because the request path builds one per
request: construction must cost well under a microsecond, and the worker
later encodes batches of them to JSON or SQL rows without reflection.

Validation is a separate, explicit step (`validate`) so the hot path can
choose when to pay for it: `Tracker.emit` validates what a developer passed,
the collector validates what the network sent.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

import msgspec
import uuid_utils

from footfall.errors import ValidationError

__all__ = [
    "EVENT_FIELDS",
    "MAX_DEPTH",
    "MAX_NAME",
    "MAX_PROP_KEY",
    "MAX_PROP_KEYS",
    "MAX_PROP_VALUE",
    "MAX_REFERRER",
    "MAX_URL",
    "SOURCES",
    "Event",
    "check_fields",
    "new_id",
    "utcnow",
    "validate",
]

# Limits from the core issue; everything from the network is bounded.
MAX_NAME = 200
MAX_URL = 4_000
MAX_REFERRER = 2_000
MAX_PROP_KEYS = 50
MAX_PROP_KEY = 100
MAX_PROP_VALUE = 2_000
MAX_DEPTH = 8
MAX_SHORT = 500  # browser, os, country, utm_*, ... : short labels
MAX_LIST_ITEMS = 100

SOURCES = frozenset({"server", "browser", "snowplow", "log", "api"})


def new_id() -> str:
    """A time-ordered unique id (UUIDv7): B-tree friendly, sortable, dedupable."""
    return str(uuid_utils.uuid7())


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Event(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """One thing that happened: a page view, a server request or a custom event."""

    name: str
    id: str = msgspec.field(default_factory=new_id)
    ts: datetime = msgspec.field(default_factory=utcnow)
    site: str = ""
    source: str = "api"
    # page
    url: str = ""
    host: str = ""
    path: str = ""
    title: str = ""
    referrer: str = ""
    referrer_host: str = ""
    referrer_source: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    utm_term: str = ""
    utm_content: str = ""
    # server request
    method: str = ""
    status: int = 0
    duration_ms: float = 0.0
    bytes: int = 0
    # who
    visitor_id: str = ""
    visit_id: str = ""
    user_id: str = ""
    ip: str = ""
    user_agent: str = ""
    # where
    country: str = ""
    region: str = ""
    city: str = ""
    # what with
    browser: str = ""
    browser_version: str = ""
    os: str = ""
    os_version: str = ""
    device: str = ""
    is_bot: bool = False
    language: str = ""
    screen: str = ""
    platform: str = ""
    timezone: str = ""
    # free-form
    props: dict[str, Any] = msgspec.field(default_factory=dict)
    context: dict[str, Any] = msgspec.field(default_factory=dict)
    schema: str = ""


EVENT_FIELDS: tuple[str, ...] = Event.__struct_fields__

_STR_FIELDS = tuple(
    f for f, t in zip(EVENT_FIELDS, msgspec.structs.fields(Event), strict=True) if t.type is str
)
_LONG_FIELDS = {"url": MAX_URL, "title": MAX_URL, "user_agent": MAX_URL, "schema": MAX_URL}


def _check_value(field: str, value: Any, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ValidationError(field, f"nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(field, "numbers must be finite")
        return
    if isinstance(value, str):
        if len(value) > MAX_PROP_VALUE:
            raise ValidationError(field, f"longer than {MAX_PROP_VALUE} characters")
        if "\x00" in value:
            raise ValidationError(field, "contains a NUL character")
        return
    if isinstance(value, list | tuple):
        if len(value) > MAX_LIST_ITEMS:
            raise ValidationError(field, f"list longer than {MAX_LIST_ITEMS} items")
        for i, item in enumerate(value):
            _check_value(f"{field}[{i}]", item, depth + 1)
        return
    if isinstance(value, dict):
        _check_mapping(field, value, depth + 1)
        return
    raise ValidationError(field, f"unsupported type {type(value).__name__}")


def _check_mapping(field: str, mapping: Any, depth: int) -> None:
    if not isinstance(mapping, dict):
        raise ValidationError(field, "must be an object")
    if depth > MAX_DEPTH:
        raise ValidationError(field, f"nested deeper than {MAX_DEPTH} levels")
    if len(mapping) > MAX_PROP_KEYS:
        raise ValidationError(field, f"more than {MAX_PROP_KEYS} keys")
    for key, value in mapping.items():
        if type(key) is not str or not key or len(key) > MAX_PROP_KEY or "\x00" in key:
            if not isinstance(key, str):
                raise ValidationError(field, "keys must be strings")
            if "\x00" in key:  # PostgreSQL's jsonb cannot hold it: the whole batch would fail
                raise ValidationError(field, "contains a NUL character in a key")
            raise ValidationError(f"{field}.{key[:40]}", f"key must be 1-{MAX_PROP_KEY} characters")
        kind = type(value)
        # Fast path for the common flat, short, scalar property.
        if kind is int or kind is bool or value is None:
            continue
        if kind is str and len(value) <= MAX_PROP_VALUE and "\x00" not in value:
            continue
        _check_value(f"{field}.{key}", value, depth)


def _check_str(field: str, value: Any) -> None:
    if not isinstance(value, str):
        raise ValidationError(field, "must be a string")
    if value:
        limit = _LONG_FIELDS.get(field, MAX_SHORT)
        if len(value) > limit:
            raise ValidationError(field, f"longer than {limit} characters")
        if "\x00" in value:
            raise ValidationError(field, "contains a NUL character")


def _check_count(field: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(field, "must be a non-negative integer")
    if field == "status" and value > 999:
        raise ValidationError("status", "must be an HTTP status code")


def _check_duration(field: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(field, "must be a number")
    if not math.isfinite(value) or value < 0:
        raise ValidationError(field, "must be a finite non-negative number")


def _check_ts(field: str, value: Any) -> None:
    if not isinstance(value, datetime):
        raise ValidationError("ts", "must be a datetime")
    if value.tzinfo is None:
        raise ValidationError("ts", "must be timezone-aware (UTC)")


def _check_source(field: str, value: Any) -> None:
    if type(value) is not str or value not in SOURCES:  # a list is not even hashable
        raise ValidationError("source", f"must be one of {', '.join(sorted(SOURCES))}")


def _check_name(field: str, value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise ValidationError("name", "must be a non-empty string")
    if len(value) > MAX_NAME:
        raise ValidationError("name", f"longer than {MAX_NAME} characters")
    if "\x00" in value:
        raise ValidationError("name", "contains a NUL character")


def _check_referrer(field: str, value: Any) -> None:
    if not isinstance(value, str):
        raise ValidationError(field, "must be a string")
    if "\x00" in value:
        raise ValidationError(field, "contains a NUL character")


def _check_bool(field: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ValidationError(field, "must be true or false")


def _check_map(field: str, value: Any) -> None:
    if value:
        _check_mapping(field, value, 1)
    elif not isinstance(value, dict):
        raise ValidationError(field, "must be an object")


_CHECKS: dict[str, Any] = {f: _check_str for f in _STR_FIELDS}
_CHECKS.update(
    name=_check_name,
    source=_check_source,
    referrer=_check_referrer,
    ts=_check_ts,
    status=_check_count,
    bytes=_check_count,
    duration_ms=_check_duration,
    is_bot=_check_bool,
    props=_check_map,
    context=_check_map,
)


_STR_LIMITS: dict[str, int] = {f: _LONG_FIELDS.get(f, MAX_SHORT) for f in _STR_FIELDS}
_STR_LIMITS["referrer"] = 1 << 62  # truncated below, never refused
_STR_LIMITS["name"] = MAX_NAME
del _STR_LIMITS["source"]  # an enumeration, checked by _check_source


def check_fields(fields: dict[str, Any]) -> None:
    """Validate keyword fields before an `Event` is built from them.

    Cheaper than `validate` on a whole event because it only looks at what
    was given, and the common case (a short string) costs one dict look-up;
    used on the calling thread by `Tracker.emit`. Truncates an over-long
    referrer in place.
    """
    limits = _STR_LIMITS
    for key, value in fields.items():
        if key == "source" and type(value) is str and value in SOURCES:
            continue
        if type(value) is str and key in limits:
            if value and len(value) <= limits[key] and "\x00" not in value:
                continue
            if not value and key != "name":
                continue
        check = _CHECKS.get(key)
        if check is None:
            raise ValidationError(key, "is not an event field")
        check(key, value)
    ref = fields.get("referrer")
    if ref and len(ref) > MAX_REFERRER:
        fields["referrer"] = ref[:MAX_REFERRER]


def validate(event: Event) -> Event:
    """Check a whole event against the limits; raise `ValidationError` naming the field.

    The referrer is truncated rather than refused (long tracking referrers are
    common and harmless); everything else over a limit is refused.
    """
    for field in EVENT_FIELDS:
        if field == "id":
            value = event.id
            if not isinstance(value, str) or not value or len(value) > 100:
                raise ValidationError("id", "must be a string of 1-100 characters")
            continue
        _CHECKS[field](field, getattr(event, field))
    if len(event.referrer) > MAX_REFERRER:
        event.referrer = event.referrer[:MAX_REFERRER]
    return event
