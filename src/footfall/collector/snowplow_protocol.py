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
  user_agent, ip, as given. Without `ua`, `visitor_agent` says whether the
  request's own User-Agent stands for the visitor (see its docstring).

Errors carry the HTTP status to answer: 400 for a malformed event (missing
`e`, `p` or `tv`, bad base64, a payload that is not JSON), 422 for a
well-formed one footfall cannot take (an unknown event type, a schema that
is not an Iglu URI). Snowplow trackers do not retry either.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import math
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson

from footfall.collector.schemas import parse_iglu
from footfall.errors import FootfallError, ValidationError
from footfall.event import Event, check_fields, new_id
from footfall.stores.meta import normalize_domain

__all__ = [
    "MAX_AGE",
    "MAX_SKEW",
    "PLATFORMS",
    "SERVER_PLATFORMS",
    "SnowplowError",
    "decode_envelope",
    "event_from_params",
    "hashed_id",
    "visitor_agent",
]

MAX_AGE = timedelta(days=7)  # trackers buffer offline; older device times are not trusted
MAX_SKEW = timedelta(minutes=10)  # a device clock this far ahead is wrong, not early
MAX_PARAM = 100_000  # characters in one parameter (a ue_px or cx can be large)
PLATFORMS = frozenset({"web", "mob", "pc", "srv", "app", "tv", "cnsl", "iot"})
# Trackers that send from a server or a desktop/general application: their HTTP
# client is a library (python-requests, ...), never the visitor's browser.
SERVER_PLATFORMS = frozenset({"srv", "pc", "app"})
_UUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

_JSON_PARAMS = frozenset({"ue_pr", "ue_px", "co", "cx"})
# Event fields copied as text from the parameter of the same meaning.
_TEXT_FIELDS = (
    ("url", "url"),
    ("title", "page"),
    ("referrer", "refr"),
    ("user_id", "uid"),
    ("ip", "ip"),
    ("user_agent", "ua"),
    ("language", "lang"),
    ("screen", "res"),
    ("timezone", "tz"),
)
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


class SnowplowError(FootfallError, ValueError):
    """One Snowplow event (or a whole request) footfall refuses; `status` is the answer."""

    def __init__(self, field: str, reason: str, status: int = 400) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.status = status


@functools.lru_cache(maxsize=1024)
def _normal_site(site: str) -> str:
    return normalize_domain(site)


def hashed_id(site: str, value: str) -> str:
    """A per-site pseudonym for a tracker-supplied id (domain user id, session id).

    The site is normalised as the collector normalises it, so `aid=Example.com`
    and `aid=example.com` give one visitor.
    """
    key = f"{_normal_site(site)}\x1f{value}"
    digest = hashlib.blake2b(key.encode("utf-8", "replace"), digest_size=8)
    return digest.hexdigest()


def _split(params: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    """The parameters as text, and the ones that are JSON objects or lists.

    One pass over the map: every later look-up is a plain `dict.get`, which
    matters at some 20 look-ups per event. POST trackers send strings; some
    send numbers or booleans (turned into text), or the JSON of ue_pr/co as
    such rather than as a string (kept aside).
    """
    texts: dict[str, str] = {}
    objects: dict[str, Any] = {}
    for key, value in params.items():
        if value.__class__ is str:
            if len(value) > MAX_PARAM:
                raise SnowplowError(key, f"longer than {MAX_PARAM} characters")
            texts[key] = value
        elif value is None:
            continue
        elif isinstance(value, bool):
            texts[key] = "true" if value else "false"
        elif isinstance(value, int | float):
            texts[key] = str(value)
        elif key in _JSON_PARAMS and isinstance(value, dict | list):
            objects[key] = value
        else:
            raise SnowplowError(str(key)[:50], "must be a string")
    return texts, objects


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


def _json_param(
    texts: dict[str, str], objects: dict[str, Any], plain: str, encoded: str
) -> tuple[str, Any]:
    """(parameter used, its JSON value) for `plain` (e.g. ue_pr) or base64 `encoded` (ue_px).

    The value is None when neither is present.
    """
    for key in (plain, encoded):
        if key in objects:
            return key, objects[key]  # a POST body may carry the JSON itself, not a string
        text = texts.get(key)
        if text:
            return key, _json(key, text) if key == plain else _b64_json(key, text)
    return plain, None


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


def _millis(texts: dict[str, str], key: str) -> int | None:
    text = texts.get(key)
    if not text:
        return None
    # ASCII only: "²" is a digit to isdigit() but not a number to int().
    if not (text.isascii() and text.isdigit()) or len(text) > 15:
        raise SnowplowError(key, "must be milliseconds since the epoch")
    return int(text)


def _since_epoch(ms: int) -> datetime | None:
    """`ms` after the epoch, or None past what a datetime holds (the year 9999)."""
    try:
        return _EPOCH + timedelta(milliseconds=ms)
    except OverflowError:
        return None


def _timestamp(texts: dict[str, str], now: datetime) -> datetime:
    """The event's time: ttm as given, else dtm corrected for the device clock by stm."""
    ttm = _millis(texts, "ttm")
    if ttm is not None:
        ts = _since_epoch(ttm)
        if ts is not None and now - MAX_AGE <= ts <= now + MAX_SKEW:
            return ts
    dtm = _millis(texts, "dtm")
    stm = _millis(texts, "stm")
    if dtm is not None:
        if stm is not None and stm >= dtm:
            # Snowplow's derived_tstamp: how long the tracker held the event,
            # measured on the device's own clock, subtracted from our clock.
            held = timedelta(milliseconds=stm - dtm)
            ts = now - held if held <= MAX_AGE else None
        else:
            ts = _since_epoch(dtm)
        if ts is not None and now - MAX_AGE <= ts <= now + MAX_SKEW:
            return ts
    return now


def _props(texts: dict[str, str], names: Mapping[str, str]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for key, prop in names.items():
        text = texts.get(key)
        if text:
            props[prop] = _number(key, text) if key in _NUMERIC else text
    return props


def event_from_params(params: Mapping[str, Any], *, now: datetime) -> Event:
    """One Snowplow event as footfall's `Event`, within the event limits.

    Only the site is left to check (by `Collector.ingest`, against the registered sites).
    """
    if not isinstance(params, Mapping):
        raise SnowplowError("event", "must be a JSON object of tracker parameters")
    texts, objects = _split(params)
    get = texts.get
    kind, platform, version = get("e", ""), get("p", ""), get("tv", "")
    for key, value, what in (
        ("e", kind, "event type"),
        ("p", platform, "platform"),
        ("tv", version, "tracker version"),
    ):
        if not value:
            raise SnowplowError(key, f"is required (the {what})")
    if platform not in PLATFORMS:
        raise SnowplowError("p", f"must be one of {', '.join(sorted(PLATFORMS))}")

    schema = ""
    props: dict[str, Any] = {}
    if kind == "pv":
        name = "pageview"
    elif kind == "se":
        name = get("se_ac", "")
        if not name:
            raise SnowplowError("se_ac", "is required for a structured event (the action)")
        props = _props(texts, _SE_PROPS)
        value = get("se_va", "")
        if value:
            props["value"] = _number("se_va", value)
    elif kind == "ue":
        key, envelope = _json_param(texts, objects, "ue_pr", "ue_px")
        if envelope is None:
            raise SnowplowError("ue_pr", "is required for a self-describing event (or ue_px)")
        name, schema, props = _unstruct(key, envelope)
    elif kind == "pp":
        name, props = "page_ping", _props(texts, _PP_PROPS)
    elif kind == "tr":
        name, props = "transaction", _props(texts, _TR_PROPS)
    elif kind == "ti":
        name, props = "transaction_item", _props(texts, _TI_PROPS)
    else:
        raise SnowplowError("e", f"unsupported event type {kind[:20]!r}", 422)

    context: dict[str, Any] = {}
    key, contexts = _json_param(texts, objects, "co", "cx")
    if contexts is not None:
        context["contexts"] = _contexts(key, contexts)
    tracker = {"version": version}
    if namespace := get("tna", ""):
        tracker["namespace"] = namespace
    context["tracker"] = tracker

    site = get("aid", "")
    visitor = get("duid", "") or get("nuid", "") or get("tnuid", "")
    session = get("sid", "")
    eid = get("eid", "")
    fields: dict[str, Any] = {
        "name": name,
        "id": eid if _UUID.match(eid) else new_id(),
        "ts": _timestamp(texts, now),
        "site": site,
        "source": "snowplow",
        "platform": platform,
        "props": props,
        "context": context,
    }
    for key, param in _TEXT_FIELDS:
        text = get(param)
        if text:
            fields[key] = text
    if schema:
        fields["schema"] = schema
    if visitor:
        fields["visitor_id"] = hashed_id(site, visitor)
    if session:
        fields["visit_id"] = hashed_id(site, session)
    try:
        # Only the fields present are checked (cheaper than validating a whole Event).
        check_fields(fields)
    except ValidationError as exc:
        raise SnowplowError(exc.field, exc.reason) from None
    return Event(**fields)


def visitor_agent(platform: str, header_agent: str, *, from_browser: bool) -> str:
    """The end user's user agent for an event sent without `ua`: the request's, or "".

    The request's User-Agent is the visitor's only when the visitor's browser
    sent the request: a tracker of a client platform (not `srv`, `pc`,
    `app`), over a request a browser could have made -- a GET (the `/i`
    pixel) or a POST with an `Origin` header, which browsers add to every
    POST (Fetch standard) and HTTP libraries do not. Otherwise it names the
    sender's HTTP client, which says nothing about the visitor and would
    have every such event judged a bot; the event then has no user agent.
    """
    if platform in SERVER_PLATFORMS or not from_browser:
        return ""
    return header_agent


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
