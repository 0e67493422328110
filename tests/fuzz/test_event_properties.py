"""Properties of the event validator (`footfall.event`) and the collector's parser.

- Any body, any JSON value: `decode_body`, `events_of` and `build_fields`
  answer or raise `ValidationError` (a 400 naming the field), nothing else.
- What `build_fields` accepts is a valid event: the routes skip the full
  `validate` for it (`prevalidated=True`).
- `check_fields` (the fast check) never lets through what `validate` refuses.
- A valid event sent as JSON with a token comes back unchanged.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import msgspec
import orjson
from hypothesis import example, given
from hypothesis import strategies as st

from footfall.collector.parse import build_fields, decode_body, events_of
from footfall.errors import ValidationError
from footfall.event import (
    EVENT_FIELDS,
    MAX_NAME,
    MAX_PROP_KEY,
    MAX_SHORT,
    SOURCES,
    Event,
    check_fields,
    validate,
)

from .strategies import fuzz_settings

FAST = fuzz_settings(300)

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)
_KEYS = st.sampled_from([*EVENT_FIELDS, "n", "u", "r", "d", "domain", "p", "m", "w", "h"])
_RAW_EVENTS = st.dictionaries(_KEYS | st.text(max_size=6), _JSON, max_size=10)


@FAST
@given(body=st.binary(max_size=300))
@example(body=b"[" * 2000)
@example(body=b'"\xed\xa0\x80"')
def test_any_body_decodes_or_raises_validation_error(body: bytes) -> None:
    try:
        doc = decode_body(body)
        events = events_of(doc, 50)
    except ValidationError:
        return
    assert 1 <= len(events) <= 50


@FAST
@given(raw=_RAW_EVENTS | _JSON, trusted=st.booleans())
@example(raw={"ts": 1e300}, trusted=True)
@example(raw={"ts": "9999-12-31T23:59:59-23:59"}, trusted=True)
@example(raw={"screen": 10**30}, trusted=False)
@example(raw={"props": '{"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {}}}}}}}}}'}, trusted=False)
def test_what_the_parser_accepts_is_a_valid_event(raw: Any, trusted: bool) -> None:
    try:
        fields = build_fields(raw, trusted=trusted, source="api" if trusted else "browser")
    except ValidationError:
        return
    validate(Event(**fields))


_ANY_VALUE = _JSON | st.datetimes() | st.tuples(st.integers()) | st.just(b"bytes")


@FAST
@given(fields=st.dictionaries(st.sampled_from(EVENT_FIELDS), _ANY_VALUE, max_size=8))
@example(fields={"status": True})
@example(fields={"source": []})
@example(fields={"props": {1: 2}})
@example(fields={"ts": datetime(2026, 1, 1)})  # naive on purpose
def test_fast_check_lets_through_only_what_validate_accepts(fields: dict[str, Any]) -> None:
    fields.pop("id", None)  # built by Event itself; `check_fields` is never given one
    fields.setdefault("name", "pageview")
    try:
        check_fields(fields)
    except ValidationError:
        return
    validate(Event(**fields))  # raises ValidationError (only) if they disagree


_NO_NUL = st.characters(codec="utf-8", exclude_characters="\x00")
_SHORT = st.text(alphabet=_NO_NUL, max_size=MAX_SHORT)
_KEY = st.text(alphabet=_NO_NUL, min_size=1, max_size=MAX_PROP_KEY)
_PROP_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | _SHORT.map(lambda s: s[:200]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEY, inner, max_size=3),
    max_leaves=6,
)


@st.composite
def valid_events(draw: st.DrawFn) -> Event:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    return Event(
        name=draw(st.text(alphabet=_NO_NUL, min_size=1, max_size=MAX_NAME)),
        ts=now - timedelta(seconds=draw(st.integers(0, 10**8))),
        site=draw(st.sampled_from(["example.com", "shop.example.org"])),
        source=draw(st.sampled_from(sorted(SOURCES))),
        url="https://example.com" + draw(st.sampled_from(["/", "/a?b=c", "/ü"])),
        referrer=draw(st.sampled_from(["", "https://www.google.com/"])),
        status=draw(st.integers(0, 999)),
        duration_ms=draw(st.floats(0, 1e6)),
        bytes=draw(st.integers(0, 2**40)),
        visitor_id=draw(_SHORT),
        user_id=draw(_SHORT),
        is_bot=draw(st.booleans()),
        props=draw(st.dictionaries(_KEY, _PROP_VALUES, max_size=5)),
    )


@FAST
@given(event=valid_events())
def test_a_valid_event_sent_as_json_with_a_token_comes_back_unchanged(event: Event) -> None:
    validate(event)
    raw = orjson.loads(msgspec.json.encode(event))
    (got,) = events_of(decode_body(orjson.dumps({"events": [raw]})), 10)
    back = Event(**build_fields(got, trusted=True, source="api"))
    assert back == event
