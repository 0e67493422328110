"""Properties of the Snowplow tracker-protocol decoder (`snowplow_protocol`).

- Any parameter map, any body: the decoder answers an event, or a
  `SnowplowError` (a 400/422 for the tracker), nothing else.
- What it answers is a valid event: the collector skips the full validation
  for it (`prevalidated=True`), so it must pass `validate`.
- Well-formed events are accepted, with their site, name and a time within
  the accepted window.
- A self-describing event or contexts sent as JSON (`ue_pr`, `co`) or as
  base64 (`ue_px`, `cx`) give the same event; an envelope's events come back
  as sent.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from footfall.collector.snowplow_protocol import (
    MAX_AGE,
    MAX_SKEW,
    SnowplowError,
    decode_envelope,
    event_from_params,
    hashed_id,
)
from footfall.event import validate

from .strategies import PAYLOAD_DATA, fuzz_settings, snowplow_event, snowplow_parameters

FAST = fuzz_settings(300)
NOW = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)

_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
_KEYS = st.sampled_from(sorted(snowplow_parameters())) | st.text(max_size=8)


def _decode(params: Any) -> Any:
    try:
        return event_from_params(params, now=NOW)
    except SnowplowError as exc:
        assert exc.status in (400, 422), exc
        return None


@FAST
@given(params=st.dictionaries(_KEYS, _VALUES, max_size=12) | snowplow_event())
@example(params={"e": "pv", "p": "web", "tv": "t", "ttm": "999999999999999"})
@example(params={"e": "pv", "p": "web", "tv": "t", "dtm": "999999999999999"})
@example(params={"e": "pv", "p": "web", "tv": "t", "dtm": "1", "stm": "999999999999999"})
@example(params={"e": "pv", "p": "web", "tv": "t", "ttm": "²"})
@example(params={"e": "se", "p": "web", "tv": "t", "se_ac": "a", "se_va": "1e400"})
def test_any_parameters_give_a_valid_event_or_a_snowplow_error(params: Any) -> None:
    event = _decode(params)
    if event is not None:
        validate(event)
        assert NOW - MAX_AGE <= event.ts <= NOW + MAX_SKEW


@FAST
@given(body=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_body_gives_events_or_a_snowplow_error(body: bytes) -> None:
    try:
        events = decode_envelope(body, 100)
    except SnowplowError:
        return
    assert isinstance(events, list) and len(events) <= 100


@FAST
@given(items=st.lists(st.dictionaries(_KEYS, st.text(max_size=20), max_size=5), max_size=5))
def test_an_envelope_gives_back_its_events(items: list[dict[str, str]]) -> None:
    body = json.dumps({"schema": PAYLOAD_DATA, "data": items}).encode()
    assert decode_envelope(body, 100) == items


@FAST
@given(
    kind=st.sampled_from(["pv", "pp", "tr", "ti"]),
    platform=st.sampled_from(["web", "mob", "srv", "app"]),
    site=st.sampled_from(["example.com", "shop.example.org"]),
    offset_ms=st.integers(-int(MAX_AGE.total_seconds() * 1000), 0),
)
def test_well_formed_events_are_accepted(
    kind: str, platform: str, site: str, offset_ms: int
) -> None:
    ttm = int(NOW.timestamp() * 1000) + offset_ms
    params = {"e": kind, "p": platform, "tv": "py-1.0.0", "aid": site, "ttm": str(ttm)}
    event = event_from_params(params, now=NOW)
    validate(event)
    names = {"pv": "pageview", "pp": "page_ping", "tr": "transaction", "ti": "transaction_item"}
    assert (event.name, event.site, event.platform) == (names[kind], site, platform)
    assert int(event.ts.timestamp() * 1000) == ttm


def _b64(value: Any, urlsafe: bool) -> str:
    raw = json.dumps(value).encode()
    return (base64.urlsafe_b64encode(raw) if urlsafe else base64.b64encode(raw)).decode()


# JSON numbers as every decoder reads them alike: 64-bit integers, finite floats.
_JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
_DATA = st.dictionaries(st.text(min_size=1, max_size=8), _JSON_SCALARS, max_size=4)


@FAST
@given(data=_DATA, urlsafe=st.booleans(), padded=st.booleans())
def test_json_and_base64_encodings_give_the_same_event(
    data: dict[str, Any], urlsafe: bool, padded: bool
) -> None:
    inner = {"schema": "iglu:com.acme/viewed_product/jsonschema/1-0-0", "data": data}
    envelope = {"schema": "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"}
    envelope["data"] = inner  # type: ignore[assignment]
    contexts = {"schema": "iglu:x/contexts/jsonschema/1-0-0", "data": [inner]}
    base = {"e": "ue", "p": "web", "tv": "js-3", "eid": "0b6e3a44-6f0f-4b8a-9d0a-8a3e2f2c1d00"}
    encoded = _b64(envelope, urlsafe)
    plain = _decode({**base, "ue_pr": json.dumps(envelope), "co": json.dumps(contexts)})
    packed = _decode(
        {
            **base,
            "ue_px": encoded if padded else encoded.rstrip("="),
            "cx": _b64(contexts, urlsafe),
        }
    )
    if plain is None:  # refused (e.g. data over the event limits): refused either way
        assert packed is None
        return
    assert packed is not None
    assert (packed.name, packed.schema, packed.props) == ("viewed_product", inner["schema"], data)
    assert (plain.name, plain.schema, plain.props, plain.context) == (
        packed.name,
        packed.schema,
        packed.props,
        packed.context,
    )


@FAST
@given(site=st.text(min_size=1, max_size=30), value=st.text(max_size=30))
def test_hashed_ids_are_stable_per_site_and_ignore_its_case(site: str, value: str) -> None:
    first = hashed_id(site, value)
    assert first == hashed_id(site, value)
    assert len(first) == 16 and int(first, 16) >= 0
    if site.isascii():  # the collector lower-cases the site the same way
        assert hashed_id(site.upper(), value) == hashed_id(site.lower(), value)
