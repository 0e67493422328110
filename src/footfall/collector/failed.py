"""Failed events (Snowplow's bad rows): kept off the request path, retried later.

The request path only queues a failed event; a `BackgroundWorker` (the same
one the tracker uses) anonymises them as stored events are anonymised
(`failed_privacy`) and writes them to the store's `failed_events` table in
batches. `retry_failed` re-runs schema validation over stored failures (after
a schema was added or fixed) and writes those that now pass straight to the
store as events.

Anonymous senders can make any number of failures, so each client address
has a byte budget (`FOOTFALL_FAILED_BYTES` per hour, a token bucket): past
it, failures are counted and dropped, and the sender is told why.
Token-authenticated senders are not capped, as they are not rate limited;
retention (`footfall purge`) bounds what they leave.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import orjson

from footfall.collector.config import DEFAULT_FAILED_BYTES
from footfall.collector.failed_privacy import FailedPrivacy
from footfall.collector.limits import RateLimiter
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
_decode_event = msgspec.json.Decoder(Event).decode


class _Pending(msgspec.Struct, frozen=True, gc=False):
    """A failed event as queued by the request path, before anonymisation."""

    ts: datetime
    reason: str
    payload: str  # already anonymised (a shallow, pure pass)
    event: bytes  # the built event as it came in (b"" when none)
    site: str
    source: str
    schema: str
    visitor_id: str  # named by the payload, when it has no event


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
    """Queues failed events and writes them, anonymised, in batches on a daemon thread.

    `chain` is the processor chain of the events the collector stores (its
    privacy step is applied to failed events too); `max_bytes` is the budget
    of one client per hour (0 keeps none from budgeted clients).
    """

    def __init__(
        self,
        meta: Meta,
        chain: Sequence[Processor] = (),
        *,
        max_bytes: int = DEFAULT_FAILED_BYTES,
    ) -> None:
        self.meta = meta
        self.privacy = FailedPrivacy(chain)
        self.max_bytes = max_bytes
        self.budget = RateLimiter(max_bytes / 3600, max_bytes) if max_bytes > 0 else None
        self.over_budget = 0  # failed events dropped because their client spent its budget
        self.worker = BackgroundWorker(
            self._write, queue_size=10_000, batch_size=500, name="footfall-failed"
        )

    def _row(self, item: _Pending) -> FailedEvent:
        event_text, visitor = "", item.visitor_id
        if item.event:
            event = self.privacy.event(_decode_event(item.event))
            event_text, visitor = _encode(event).decode(), event.visitor_id or visitor
        return FailedEvent(
            id=0,
            ts=item.ts,
            reason=item.reason,
            payload=item.payload,
            event=event_text,
            site=item.site,
            source=item.source,
            schema=item.schema,
            visitor_id=visitor,
        )

    def _write(self, items: list[_Pending]) -> None:
        try:
            self.meta.add_failed([self._row(item) for item in items])
        except Exception:
            log.exception("footfall: could not store %d failed events", len(items))

    def add(
        self,
        payload: Any,
        reason: str,
        *,
        event: Event | None = None,
        site: str = "",
        source: str = "",
        schema: str = "",
        client: str | None = None,
    ) -> str | None:
        """Queue one failed event; None when queued, else why it was dropped (and counted).

        `client` is the budget key of an anonymous sender (its address's
        rate key); None for a sender that is not capped.
        """
        kept, visitor = self.privacy.payload(payload)
        text = payload_text(kept)
        built = _encode(event) if event is not None else b""
        if client is not None and not self._within_budget(client, len(text) + len(built)):
            return (
                f"not kept: failed events from this address are over "
                f"{self.max_bytes} bytes per hour"
            )
        item = _Pending(
            ts=utcnow(),
            reason=reason[:2000],
            payload=text,
            event=built,
            site=site or (event.site if event else ""),
            source=source or (event.source if event else ""),
            schema=schema or (event.schema if event else ""),
            visitor_id=visitor,
        )
        if not self.worker.submit(item):
            return "not kept: the failed-events queue is full"
        return None

    def _within_budget(self, client: str, size: int) -> bool:
        if self.budget is not None and self.budget.take(client, size) == 0:
            return True
        self.over_budget += 1
        if self.over_budget == 1 or self.over_budget % 1000 == 0:
            log.warning(
                "footfall: %d failed events dropped so far: their senders spent the "
                "budget of FOOTFALL_FAILED_BYTES=%d per hour",
                self.over_budget,
                self.max_bytes,
            )
        return False

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
