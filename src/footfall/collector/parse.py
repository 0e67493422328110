"""Turning untrusted request bodies and query strings into event fields.

Accepted JSON shape for `POST /api/event` (one object, a list, or
`{"events": [...]}`), Plausible-like short names in brackets:

    name (n)            event name; default "pageview"
    url (u)             page URL, http(s) only
    referrer (r)        referrer URL (javascript:/data: refused)
    site (d, domain)    the site's registered domain
    props (p, m)        object of custom properties (or that object as a JSON string)
    screen (w)          screen width, number or string
    title, language, timezone, schema, context

A request with a site's API token may also set any other `Event` field,
notably `ts` (ISO 8601 or epoch seconds), `visitor_id`, `user_id`, `ip`,
`user_agent`, `id` and `source`. Unknown keys are refused, except Plausible's
flags `h` and `i`, which are ignored.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import orjson

from footfall.errors import ValidationError
from footfall.event import EVENT_FIELDS, Event, check_fields, utcnow

__all__ = ["ANONYMOUS_FIELDS", "build_fields", "decode_body", "events_of"]

ALIASES = {
    "n": "name",
    "u": "url",
    "r": "referrer",
    "d": "site",
    "domain": "site",
    "p": "props",
    "m": "props",
    "w": "screen",
    "screen_width": "screen",
}
IGNORED = frozenset({"h", "i"})
ANONYMOUS_FIELDS = frozenset(
    {"name", "url", "referrer", "site", "props", "screen", "title", "language", "timezone"}
    | {"schema", "context"}
)
TRUSTED_FIELDS = frozenset(EVENT_FIELDS)
# Keys that map to themselves: a body using only these skips the per-key loop.
_PLAIN = {
    True: TRUSTED_FIELDS - ALIASES.keys() - IGNORED,
    False: ANONYMOUS_FIELDS - ALIASES.keys() - IGNORED,
}
BAD_SCHEMES = ("javascript:", "data:", "vbscript:", "file:")
MAX_FUTURE = timedelta(days=1)


def decode_body(body: bytes) -> Any:
    """Parse JSON (orjson: strict UTF-8, depth limit); raise ValidationError with a reason."""
    if not body.strip():
        raise ValidationError("body", "is empty")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        msg = str(exc)
        if "depth" in msg or "recursion" in msg:
            raise ValidationError("body", "JSON nested too deeply") from None
        if "utf-8" in msg.lower() or "surrogate" in msg.lower():
            raise ValidationError("body", "is not valid UTF-8") from None
        raise ValidationError("body", f"is not valid JSON ({msg[:120]})") from None


def events_of(doc: Any, max_events: int) -> list[Any]:
    """The list of raw events in a decoded body (object, list, or {"events": [...]})."""
    if isinstance(doc, dict) and "events" in doc and len(doc) == 1:
        doc = doc["events"]
        if not isinstance(doc, list):
            raise ValidationError("events", "must be a list")
    if isinstance(doc, dict):
        return [doc]
    if not isinstance(doc, list):
        raise ValidationError("body", "must be an event object or a list of events")
    if not doc:
        raise ValidationError("events", "is empty")
    if len(doc) > max_events:
        raise ValidationError("events", f"more than {max_events} events in one request")
    return doc


_HTTP = ("https://", "http://")


def _check_url(field: str, value: Any, *, http_only: bool) -> None:
    if not isinstance(value, str) or not value or value.startswith(_HTTP):
        return  # type errors are check_fields' job; a plain lower-case http(s) URL is fine
    head = value[:16].strip().lower()
    if head.startswith(BAD_SCHEMES):
        raise ValidationError(field, f"{head.split(':', 1)[0]}: URLs are not allowed")
    if http_only and not head.startswith(("http://", "https://")):
        raise ValidationError(field, "must be an http(s) URL")


def _parse_ts(value: Any) -> datetime:
    if isinstance(value, bool):
        raise ValidationError("ts", "must be an ISO 8601 string or epoch seconds")
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 1e11 else value
        try:
            ts = datetime.fromtimestamp(seconds, timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise ValidationError("ts", "is out of range") from None
    elif isinstance(value, str) and len(value) <= 64:
        try:
            ts = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise ValidationError("ts", "is not an ISO 8601 date-time") from None
        try:
            ts = (
                ts.replace(tzinfo=timezone.utc)
                if ts.tzinfo is None
                else ts.astimezone(timezone.utc)
            )
        except OverflowError:  # "9999-12-31T23:59-01:00" is past the year 9999 in UTC
            raise ValidationError("ts", "is out of range") from None
    else:
        raise ValidationError("ts", "must be an ISO 8601 string or epoch seconds")
    if ts > utcnow() + MAX_FUTURE:
        raise ValidationError("ts", "is in the future")
    return ts


def _nul_in_keys(value: Any, depth: int = 0) -> bool:
    if depth > 10:
        return False
    if isinstance(value, dict):
        return any("\x00" in k or _nul_in_keys(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return any(_nul_in_keys(v, depth + 1) for v in value)
    return False


def build_fields(raw: Any, *, trusted: bool, source: str, nul_keys: bool = True) -> dict[str, Any]:
    """Map one raw event object to checked `Event` keyword fields, or raise ValidationError.

    `nul_keys=False` skips looking for NUL characters in prop keys; the caller
    may pass it when the body has no `\\u0000` escape (orjson refuses raw NULs).
    """
    if not isinstance(raw, dict):
        raise ValidationError("event", "must be an object")
    fields: dict[str, Any]
    if raw.keys() <= _PLAIN[trusted]:  # the usual case, checked in C
        fields = dict(raw)
    else:
        allowed = TRUSTED_FIELDS if trusted else ANONYMOUS_FIELDS
        fields = {}
        for key, value in raw.items():
            name = ALIASES.get(key, key)
            if name not in allowed:
                if key in IGNORED:
                    continue
                if name in TRUSTED_FIELDS:
                    raise ValidationError(name, "only requests with an API token may set this")
                raise ValidationError(str(key)[:50], "is not an event field")
            fields[name] = value
    fields.setdefault("name", "pageview")
    fields.setdefault("source", source)
    props = fields.get("props")
    if isinstance(props, str):
        if len(props) > 100_000:
            raise ValidationError("props", "too long")
        try:
            fields["props"] = orjson.loads(props) if props else {}
        except orjson.JSONDecodeError:
            raise ValidationError("props", "must be an object or a JSON object string") from None
    elif props is None and "props" in fields:
        fields["props"] = {}
    screen = fields.get("screen")
    if isinstance(screen, int) and not isinstance(screen, bool):
        if not 0 <= screen < 100_000:
            raise ValidationError("screen", "is not a screen width")
        fields["screen"] = str(screen)
    for key in ("props", "context") if nul_keys else ():
        if key in fields and _nul_in_keys(fields[key]):
            raise ValidationError(key, "contains a NUL character in a key")
    _check_url("url", fields.get("url"), http_only=True)
    _check_url("referrer", fields.get("referrer"), http_only=False)
    if "ts" in fields:
        fields["ts"] = _parse_ts(fields["ts"])
    if "id" in fields and (not isinstance(fields["id"], str) or not fields["id"]):
        raise ValidationError("id", "must be a non-empty string")
    check_fields(fields)
    return fields


def build_event(raw: Any, *, trusted: bool, source: str, nul_keys: bool = True) -> Event:
    return Event(**build_fields(raw, trusted=trusted, source=source, nul_keys=nul_keys))
