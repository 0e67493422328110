"""Failed events (Snowplow's bad rows): kept off the request path, retried later.

The request path only queues a `FailedEvent`; a `BackgroundWorker` (the same
one the tracker uses) writes them to the store's `failed_events` table in
batches. `retry_failed` re-runs schema validation over stored failures (after
a schema was added or fixed) and writes those that now pass straight to the
store as events.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import orjson

from footfall.delivery.worker import BackgroundWorker
from footfall.errors import ValidationError
from footfall.event import Event, utcnow, validate
from footfall.processors import Processor, run_chain
from footfall.stores.base import Store
from footfall.stores.meta import FailedEvent, Meta

__all__ = ["FailedWriter", "RetryResult", "payload_text", "retry_failed"]

log = logging.getLogger("footfall.collector")

MAX_PAYLOAD_CHARS = 100_000  # an original payload is kept up to this size
_encode = msgspec.json.Encoder().encode


def payload_text(payload: Any) -> str:
    """The original input as text: bytes decoded leniently, objects as JSON, truncated."""
    if isinstance(payload, bytes | bytearray):
        text = bytes(payload).decode("utf-8", "replace")
    elif isinstance(payload, str):
        text = payload
    else:
        try:
            text = orjson.dumps(payload, default=str).decode()
        except (TypeError, orjson.JSONEncodeError):
            text = repr(payload)
    return text.replace("\x00", "\\u0000")[:MAX_PAYLOAD_CHARS]


class FailedWriter:
    """Queues failed events and writes them in batches on a daemon thread."""

    def __init__(self, meta: Meta) -> None:
        self.meta = meta
        self.worker = BackgroundWorker(
            self._write, queue_size=10_000, batch_size=500, name="footfall-failed"
        )

    def _write(self, rows: list[FailedEvent]) -> None:
        try:
            self.meta.add_failed(rows)
        except Exception:
            log.exception("footfall: could not store %d failed events", len(rows))

    def add(
        self,
        payload: Any,
        reason: str,
        *,
        event: Event | None = None,
        site: str = "",
        source: str = "",
        schema: str = "",
    ) -> bool:
        """Queue one failed event; False if the queue is full (it is dropped and counted)."""
        row = FailedEvent(
            id=0,
            ts=utcnow(),
            reason=reason[:2000],
            payload=payload_text(payload),
            event=_encode(event).decode() if event is not None else "",
            site=site or (event.site if event else ""),
            source=source or (event.source if event else ""),
            schema=schema or (event.schema if event else ""),
        )
        return self.worker.submit(row)

    def flush(self, timeout: float | None = 5.0) -> bool:
        return self.worker.flush(timeout)

    def close(self, timeout: float | None = 5.0) -> int:
        return self.worker.close(timeout)


@dataclass
class RetryResult:
    recovered: int = 0
    still_failing: int = 0
    not_retryable: int = 0


def retry_failed(
    store: Store,
    meta: Meta,
    validate_schema: Any,
    *,
    limit: int = 10_000,
    site: str | None = None,
    processors: Sequence[Processor] = (),
) -> RetryResult:
    """Re-validate stored failures; store the events that now pass and mark them recovered.

    `validate_schema(uri, data) -> str | None` is a `SchemaRegistry.validate`.
    A failed event was kept as the collector built it, before enrichment, so
    recovered events go through `processors` (the CLI passes the default
    chain: visitor id, geo, then privacy drops the IP) before being stored.
    A failure without a built event (its payload could not be parsed) is
    counted as not retryable and left as it is.
    """
    result = RetryResult()
    decoder = msgspec.json.Decoder(Event)
    for row in meta.list_failed("failed", limit, site):
        if not row.event:
            result.not_retryable += 1
            continue
        try:
            event = validate(decoder.decode(row.event))
        except (msgspec.DecodeError, ValidationError) as exc:
            result.not_retryable += 1
            meta.set_failed_status(row.id, "failed", f"not retryable: {exc}")
            continue
        reason = validate_schema(event.schema, event.props) if event.schema else None
        if reason is not None:
            result.still_failing += 1
            meta.set_failed_status(row.id, "failed", reason)
            continue
        processed = run_chain(processors, [event])
        if processed:
            store.write(processed)
        meta.set_failed_status(row.id, "recovered")
        result.recovered += 1
    return result
