"""Batch encodings: round trips, and typed refusals of anything else."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timezone

import pytest

from footfall.delivery.serialize import (
    FORMAT_JSON,
    FORMAT_MSGPACK,
    BatchDecodeError,
    decode_batch,
    encode_batch,
    http_body,
)
from footfall.event import Event


def sample() -> list[Event]:
    ts = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=timezone.utc)
    return [
        Event(name="pageview", ts=ts, site="a.example", path="/", props={"n": 1, "l": [1, "x"]}),
        Event(name="shop.checkout", site="a.example", status=200, duration_ms=1.5, is_bot=True),
    ]


@pytest.mark.parametrize("fmt", [FORMAT_MSGPACK, FORMAT_JSON])
def test_round_trip_keeps_every_field(fmt: str) -> None:
    events = sample()
    back = decode_batch(encode_batch(events, fmt), fmt)
    assert back == events
    assert back[0].ts.tzinfo is not None


@pytest.mark.parametrize(
    ("payload", "fmt"),
    [
        (b"garbage", FORMAT_MSGPACK),
        (b"\x91\x01", FORMAT_MSGPACK),  # a list holding an int, not an event
        (b'[{"name": 5}]', FORMAT_JSON),  # wrong type
        (b'[{"id": "x"}]', FORMAT_JSON),  # missing the required name
        (encode_batch(sample()), "xml-v9"),  # unknown format
    ],
)
def test_anything_else_is_a_decode_error_with_a_reason(payload: bytes, fmt: str) -> None:
    with pytest.raises(BatchDecodeError) as info:
        decode_batch(payload, fmt)
    assert info.value.reason
    assert info.value.retryable is False


def test_http_body_is_gzip_json_with_events_key() -> None:
    body = json.loads(gzip.decompress(http_body(sample())))
    assert [e["name"] for e in body["events"]] == ["pageview", "shop.checkout"]
    assert body["events"][0]["ts"] == "2026-03-01T12:30:15.123456Z"
