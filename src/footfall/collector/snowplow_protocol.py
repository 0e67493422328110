"""The Snowplow tracker protocol, decoded into footfall events (pure: no I/O).

Snowplow trackers (JavaScript, Python, mobile, ...) send one event as a flat
map of short parameter names, either as a GET query (`/i`) or as one item of
a POST `payload_data` envelope. This module turns such a map into an `Event`
or says, with a `SnowplowError`, why it cannot. The HTTP side is in
`footfall.collector.snowplow`.

Mapping (the parameter names are Snowplow's, see its "tracker protocol"):

- `e=pv`: name `pageview`; `url`, `page` -> title, `refr` -> referrer.
- `e=se`: name = `se_ac`; props `category` (`se_ca`), `label`, `property`,
  `value` (a number).
- `e=ue`: name = the schema's name (`iglu:com.acme/viewed_product/jsonschema/1-0-0`
  gives `viewed_product`); `schema` = that URI; props = its data. From `ue_pr`
  (JSON) or `ue_px` (base64, URL-safe or not, padding optional).
- `e=pp`, `tr`, `ti`: `page_ping`, `transaction`, `transaction_item`, fields in props.
- `co` / `cx`: `context["contexts"]`, the list of `{"schema", "data"}` entities as sent;
  `tv`, `tna`: `context["tracker"]` = `{"version", "namespace"}`.
- `aid`: site. `uid`: user_id.
- `duid`, else `nuid` / `tnuid`: visitor_id = blake2b(site + id), 16 hex digits,
  stable per site; the raw cookie value is not stored. `sid`: visit_id, hashed alike.
- `eid`: the event id, so a batch the tracker retries is stored once.
- `ttm`, else `dtm` (corrected for the device clock by `stm`): ts, when within
  `MAX_AGE` in the past and `MAX_SKEW` in the future; else the server's time.
- `p`, `lang`, `res`, `tz`, `ua`, `ip`: platform, language, screen, timezone,
  user_agent, ip, as given.

Errors carry the HTTP status to answer: 400 for a malformed event (missing
`e`, `p` or `tv`, bad base64, a payload that is not JSON), 422 for a
well-formed one footfall cannot take (an unknown event type, a schema that
is not an Iglu URI). Snowplow trackers do not retry either.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson

from footfall.collector.schemas import parse_iglu
from footfall.event import Event, new_id

__all__ = [
    "MAX_AGE",
    "MAX_SKEW",
    "PLATFORMS",
    "SnowplowError",
    "decode_envelope",
    "event_from_params",
    "hashed_id",
]

MAX_AGE = timedelta(days=7)  # trackers buffer offline; older device times are not trusted
MAX_SKEW = timedelta(minutes=10)  # a device clock this far ahead is wrong, not early
MAX_PARAM = 100_000  # characters in one parameter (a ue_px or cx can be large)
PLATFORMS = frozenset({"web", "mob", "pc", "srv", "app", "tv", "cnsl", "iot"})
_UUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

# Structured-event and e-commerce parameters -> prop names.
_SE_PROPS = {"se_ca": "category", "se_la": "label", "se_pr": "property"}
_PP_PROPS = {"pp_mix": "min_x", "pp_max": "max_x", "pp_miy": "min_y", "pp_may": "max_y"}
_TR_PROPS = {
    "tr_id": "order_id",
    "tr_af": "affiliation",
    "tr_tt": "total",
    "tr_tx": "tax",
    "tr_sh": "shipping",
    "tr_ci": "city",
    "tr_st": "state",
    "tr_co": "country",
    "tr_cu": "currency",
}
_TI_PROPS = {
    "ti_id": "order_id",
    "ti_sk": "sku",
    "ti_nm": "name",
    "ti_ca": "category",
    "ti_pr": "price",
    "ti_qu": "quantity",
    "ti_cu": "currency",
}
_NUMERIC = frozenset(
    {"tr_tt", "tr_tx", "tr_sh", "ti_pr", "ti_qu", "pp_mix", "pp_max", "pp_miy", "pp_may"}
)


class SnowplowError(ValueError):
    """One Snowplow event (or a whole request) footfall refuses; `status` is the answer."""

    def __init__(self, field: str, reason: str, status: int = 400) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.status = status


def hashed_id(site: str, value: str) -> str:
    """A per-site pseudonym for a tracker-supplied id (domain user id, session id)."""
    digest = hashlib.blake2b(f"{site}\x1f{value}".encode("utf-8", "replace"), digest_size=8)
    return digest.hexdigest()


def _text(params: Mapping[str, Any], key: str) -> str:
    """A parameter as text; POST trackers send strings, some send numbers."""
    value = params.get(key)
    if value is None:
        return ""
    if isinstance(value, str):
        if len(value) > MAX_PARAM:
            raise SnowplowError(key, f"longer than {MAX_PARAM} characters")
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise SnowplowError(key, "must be a string")


def _number(key: str, text: str) -> float | int:
    try:
        value = float(text)
    except ValueError:
        raise SnowplowError(key, f"must be a number, not {text[:40]!r}") from None
    if not math.isfinite(value):
        raise SnowplowError(key, "must be a finite number")
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _b64_json(key: str, text: str) -> Any:
    """Decode base64 (URL-safe or standard, padding optional) holding UTF-8 JSON."""
    raw = text.strip().replace("-", "+").replace("_", "/")
    raw += "=" * (-len(raw) % 4)
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise SnowplowError(key, "is not valid base64") from None
    return _json(key, data)


def _json(key: str, data: str | bytes) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        raise SnowplowError(key, "is not valid JSON") from None


def _json_param(params: Mapping[str, Any], plain: str, encoded: str) -> Any:
    """The JSON value of `plain` (e.g. ue_pr) or of base64 `encoded` (ue_px); None if absent."""
    value = params.get(plain)
    if isinstance(value, dict | list):
        return value  # a POST body may carry the JSON itself rather than a string
    text = _text(params, plain)
    if text:
        return _json(plain, text)
    value = params.get(encoded)
    if isinstance(value, dict | list):
        return value
    text = _text(params, encoded)
    if text:
        return _b64_json(encoded, text)
    return None


def _self_describing(key: str, value: Any) -> tuple[str, Any]:
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("schema"), str)
        or "data" not in value
    ):
        raise SnowplowError(key, "must be a self-describing JSON object {schema, data}")
    return value["schema"], value["data"]


def _unstruct(key: str, envelope: Any) -> tuple[str, str, dict[str, Any]]:
    """(name, schema URI, data) of an unstruct_event envelope."""
    _, inner = _self_describing(key, envelope)
    uri, data = _self_describing(key, inner)
    parts = parse_iglu(uri)
    if parts is None:
        raise SnowplowError(
            key, f"schema {uri[:200]!r} is not iglu:vendor/name/jsonschema/M-R-A", 422
        )
    if not isinstance(data, dict):
        raise SnowplowError(key, "the event's data must be a JSON object")
    return parts[1], uri, data


def _contexts(key: str, envelope: Any) -> list[dict[str, Any]]:
    _, entities = _self_describing(key, envelope)
    if not isinstance(entities, list):
        raise SnowplowError(key, "contexts data must be a list of {schema, data}")
    out = []
    for entity in entities:
        uri, data = _self_describing(key, entity)
        out.append({"schema": uri, "data": data})
    return out


def _timestamp(params: Mapping[str, Any], now: datetime) -> datetime:
    """The event's time: ttm as given, else dtm corrected for the device clock by stm."""

    def millis(key: str) -> int | None:
        text = _text(params, key)
        if not text:
            return None
        if not text.isdigit() or len(text) > 15:
            raise SnowplowError(key, "must be milliseconds since the epoch")
        return int(text)

    ttm, dtm, stm = millis("ttm"), millis("dtm"), millis("stm")
    candidates = []
    if ttm is not None:
        candidates.append(_EPOCH + timedelta(milliseconds=ttm))
    if dtm is not None:
        if stm is not None and stm >= dtm:
            # Snowplow's derived_tstamp: how long the tracker held the event,
            # measured on the device's own clock, subtracted from our clock.
            candidates.append(now - timedelta(milliseconds=stm - dtm))
        else:
            candidates.append(_EPOCH + timedelta(milliseconds=dtm))
    for ts in candidates:
        if now - MAX_AGE <= ts <= now + MAX_SKEW:
            return ts
    return now


def _props(params: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for key, prop in names.items():
        text = _text(params, key)
        if text:
            props[prop] = _number(key, text) if key in _NUMERIC else text
    return props


def event_from_params(params: Mapping[str, Any], *, now: datetime) -> Event:
    """One Snowplow event as footfall's `Event` (not yet validated or site-checked)."""
    if not isinstance(params, Mapping):
        raise SnowplowError("event", "must be a JSON object of tracker parameters")
    for key, what in (("e", "event type"), ("p", "platform"), ("tv", "tracker version")):
        if not _text(params, key):
            raise SnowplowError(key, f"is required (the {what})")
    kind = _text(params, "e")
    platform = _text(params, "p")
    if platform not in PLATFORMS:
        raise SnowplowError("p", f"must be one of {', '.join(sorted(PLATFORMS))}")

    schema = ""
    props: dict[str, Any] = {}
    if kind == "pv":
        name = "pageview"
    elif kind == "se":
        name = _text(params, "se_ac")
        if not name:
            raise SnowplowError("se_ac", "is required for a structured event (the action)")
        props = _props(params, _SE_PROPS)
        value = _text(params, "se_va")
        if value:
            props["value"] = _number("se_va", value)
    elif kind == "ue":
        envelope = _json_param(params, "ue_pr", "ue_px")
        if envelope is None:
            raise SnowplowError("ue_pr", "is required for a self-describing event (or ue_px)")
        name, schema, props = _unstruct("ue_px" if "ue_px" in params else "ue_pr", envelope)
    elif kind == "pp":
        name, props = "page_ping", _props(params, _PP_PROPS)
    elif kind == "tr":
        name, props = "transaction", _props(params, _TR_PROPS)
    elif kind == "ti":
        name, props = "transaction_item", _props(params, _TI_PROPS)
    else:
        raise SnowplowError("e", f"unsupported event type {kind[:20]!r}", 422)

    context: dict[str, Any] = {}
    contexts = _json_param(params, "co", "cx")
    if contexts is not None:
        context["contexts"] = _contexts("cx" if "cx" in params else "co", contexts)
    tracker = {"version": _text(params, "tv")}
    if namespace := _text(params, "tna"):
        tracker["namespace"] = namespace
    context["tracker"] = tracker

    site = _text(params, "aid")
    visitor = _text(params, "duid") or _text(params, "nuid") or _text(params, "tnuid")
    session = _text(params, "sid")
    eid = _text(params, "eid")
    return Event(
        name=name,
        id=eid if _UUID.match(eid) else new_id(),
        ts=_timestamp(params, now),
        site=site,
        source="snowplow",
        url=_text(params, "url"),
        title=_text(params, "page"),
        referrer=_text(params, "refr"),
        user_id=_text(params, "uid"),
        visitor_id=hashed_id(site, visitor) if visitor else "",
        visit_id=hashed_id(site, session) if session else "",
        ip=_text(params, "ip"),
        user_agent=_text(params, "ua"),
        language=_text(params, "lang"),
        screen=_text(params, "res"),
        timezone=_text(params, "tz"),
        platform=platform,
        props=props,
        context=context,
        schema=schema,
    )


def decode_envelope(body: bytes, max_events: int) -> list[Any]:
    """The event maps of a POST `payload_data` body; raises `SnowplowError` for the whole body."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise SnowplowError("body", "is not UTF-8") from None
    envelope = _json("body", text)
    if not isinstance(envelope, dict) or not isinstance(envelope.get("data"), list):
        raise SnowplowError("body", "must be a payload_data envelope {schema, data: [...]}")
    schema = envelope.get("schema")
    if not isinstance(schema, str) or "/payload_data/" not in schema:
        raise SnowplowError(
            "schema", "must be iglu:com.snowplowanalytics.snowplow/payload_data/..."
        )
    events: list[Any] = envelope["data"]
    if len(events) > max_events:
        raise SnowplowError("data", f"more than {max_events} events in one request")
    return events
