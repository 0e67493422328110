"""Batch encodings shared by the network sinks and their consumers.

Queues (Redis Streams, Celery) carry MessagePack: it is the most compact and
the fastest encoding msgspec offers, and `ts` travels as a native timestamp
extension, so no string parsing on the consumer. HTTP carries JSON because
that is what `POST /api/event` speaks.

Decoding is typed (`list[Event]`): a payload that is not a list of events, or
whose fields have the wrong types, raises `BatchDecodeError` with a reason a
dead-letter entry can carry. A consumer never guesses at a malformed batch.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence

import msgspec

from footfall.errors import FootfallError
from footfall.event import Event

__all__ = [
    "FORMAT_JSON",
    "FORMAT_MSGPACK",
    "BatchDecodeError",
    "decode_batch",
    "encode_batch",
    "http_body",
]

FORMAT_MSGPACK = "msgpack-v1"
FORMAT_JSON = "json-v1"
GZIP_LEVEL = 5  # compresses event JSON ~8x; level 9 costs 3x the CPU for ~5% less

_mp_encoder = msgspec.msgpack.Encoder()
_mp_decoder = msgspec.msgpack.Decoder(list[Event])
_json_encoder = msgspec.json.Encoder()
_json_decoder = msgspec.json.Decoder(list[Event])


class BatchDecodeError(FootfallError, ValueError):
    """A payload that will never decode: a consumer dead-letters it, never retries it."""

    retryable = False

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def encode_batch(events: Sequence[Event], fmt: str = FORMAT_MSGPACK) -> bytes:
    """Encode a batch for a queue; `fmt` is stored beside it so consumers can evolve."""
    if fmt == FORMAT_MSGPACK:
        return _mp_encoder.encode(list(events))
    if fmt == FORMAT_JSON:
        return _json_encoder.encode(list(events))
    raise ValueError(f"unknown batch format {fmt!r}")


def decode_batch(payload: bytes | str, fmt: str = FORMAT_MSGPACK) -> list[Event]:
    """Decode what `encode_batch` produced; anything else raises `BatchDecodeError`."""
    try:
        if fmt == FORMAT_MSGPACK:
            if isinstance(payload, str):
                raise BatchDecodeError("msgpack payload arrived as text")
            return _mp_decoder.decode(payload)
        if fmt == FORMAT_JSON:
            return _json_decoder.decode(payload)
    except msgspec.DecodeError as exc:  # ValidationError is a subclass
        raise BatchDecodeError(f"undecodable {fmt} batch: {exc}") from None
    raise BatchDecodeError(f"unknown batch format {fmt!r}")


def http_body(events: Sequence[Event], *, compress: bool = True) -> bytes:
    """`{"events": [...]}` as JSON, gzip-compressed by default: the body `HttpSink` posts."""
    raw = b'{"events":' + _json_encoder.encode(list(events)) + b"}"
    return gzip.compress(raw, compresslevel=GZIP_LEVEL, mtime=0) if compress else raw
