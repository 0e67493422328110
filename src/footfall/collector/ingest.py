"""The ingestion path every collector endpoint shares (JSON API, pixel, Snowplow).

CONTRACT (used by footfall.collector.snowplow and routes.py)
-----------------------------------------------------------
`collector_for(state) -> Collector` returns the one `Collector` of a
`ServerState` (created on first use, kept in `state.extras["collector"]`).

`await Collector.authenticate(authorization: str | None) -> Token | None`
    `None` when no `Authorization` header was sent; the `Token` for a valid
    `Bearer <secret>`; raises `Rejected(401, reason)` for a bad or revoked one.
    A token made since the cached lists were loaded is found: that request
    waits for a reload, in a thread (collector/directory.py).

`Collector.check_rate(ip: str, token: Token | None, cost: float = 1.0, *, paid=0.0) -> None`
    Raises `Rejected(429, reason, retry_after=seconds)` when `ip` exceeded the
    per-IP token bucket. Requests with a valid token are never limited.
    Call once per HTTP request, before parsing the body; a batch endpoint
    (`/api/event`, Snowplow's POST) charges an anonymous batch's further
    events (`cost=n-1, paid=1`) once it has parsed it, so every event costs
    a token. A batch bigger than the burst is taken from a bucket that was
    full, which then stays in debt until the batch is paid for
    (`RateLimiter.take`).
    IPv6 addresses share a bucket per /64 (one host usually holds a /64).

`Collector.ingest(events, *, token, ip, user_agent, payloads=None, prevalidated=False)
-> IngestResult`
    `events`: already-built `footfall.Event`s. For each, in order:
    1. the site: empty -> the token's site if it is bound to one, else an
       error; it must be a registered site (error "unknown site"), and a token
       bound to a site only allows that site (403);
    2. `ip` / `user_agent` fill `event.ip` / `event.user_agent` when empty
       (the caller decides which fields an anonymous sender may set; the
       visitor id left empty is computed by the worker's visitor processor).
       Both are the end user's or "": a caller passes the request's address
       and User-Agent only when the visitor's browser sent it, never a
       backend's (an API token's sender): its HTTP client would be judged by
       the bot processor instead of the visitor, and its one address would
       make every user of the backend one visitor;
    3. `footfall.event.validate` (skipped when `prevalidated=True`);
    4. dedupe of identical anonymous page views (only if configured);
    5. `event.schema` set -> `event.props` is validated against the schema
       registry; a failure (or an unknown schema while strict) is NOT lost:
       it is queued to the failed-events table with `payloads[i]` (the
       original input, if given) and the event, and reported with status 422
       and `kept=True` -- unless an anonymous sender spent its failed-event
       budget: then 422 with the reason it was not kept;
    6. `state.tracker.send(event)`; a full queue is reported with status 503.
    Never raises for bad events; returns counts and per-event `EventError`s
    (index into `events`, field, reason, HTTP status). `IngestResult.status()`
    gives the status for the whole request: 202 when at least one event was
    accepted (or kept as failed), else the errors' common status (400 if
    mixed). Bad events never stop the good ones beside them.

`await Collector.admit()`
    Call once per ingest request before reading its body: returns at once
    while the delivery queue is shallow, else waits (bounded) for room; see
    footfall.collector.admission for why a deep queue holds requests rather
    than refusing them.

`Collector.store_failed(payload, reason, *, event=None, site="", source="", schema="",
client=None) -> bool` (and `keep_failed`, the same answering why not)
    Queue one failed event (original payload + reason) without I/O. The
    writer anonymises it as stored events are (`failed_privacy`) before it is
    written; `client` (an anonymous sender's rate key) is charged its bytes
    against `FOOTFALL_FAILED_BYTES` per hour, past which it is dropped.

`validate_self_describing(state, uri, data)` checks data
against the registry without ingesting anything.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from footfall.collector.admission import Admission
from footfall.collector.config import CollectorConfig
from footfall.collector.directory import Directory
from footfall.collector.failed import FailedWriter
from footfall.collector.limits import Deduper, RateLimiter, rate_key
from footfall.collector.schemas import SchemaRegistry
from footfall.errors import FootfallError, ValidationError
from footfall.event import Event, validate
from footfall.stores.meta import Meta, Token, open_meta

__all__ = [
    "Collector",
    "EventError",
    "IngestResult",
    "Rejected",
    "collector_for",
    "validate_self_describing",
]

log = logging.getLogger("footfall.collector")

NO_META = "this store does not support sites and tokens yet; events cannot be accepted"

_EXTRAS_KEY = "collector"


class Rejected(FootfallError):
    """A whole request refused: HTTP `status` with a `reason` for the sender."""

    def __init__(self, status: int, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class EventError:
    """Why one event of a request was not accepted."""

    index: int
    field: str
    reason: str
    status: int = 400
    kept: bool = False  # stored as a failed event, can be retried

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "field": self.field, "reason": self.reason}
        if self.kept:
            out["kept"] = True
        return out


@dataclass
class IngestResult:
    """What happened to the events of one request."""

    accepted: int = 0
    deduplicated: int = 0
    failed: int = 0  # kept in failed events
    errors: list[EventError] = field(default_factory=list)

    def status(self) -> int:
        if self.accepted or self.deduplicated or self.failed or not self.errors:
            return 202
        codes = {e.status for e in self.errors}
        return codes.pop() if len(codes) == 1 else 400

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"accepted": self.accepted, "rejected": len(self.errors)}
        if self.deduplicated:
            out["deduplicated"] = self.deduplicated
        if self.failed:
            out["failed"] = self.failed
        if self.errors:
            out["errors"] = [e.as_dict() for e in self.errors[:100]]
        return out


class Collector:
    """Per-process ingestion state: site cache, limiters, schema registry, failed queue."""

    def __init__(self, state: Any, config: CollectorConfig | None = None) -> None:
        self.state = state
        self.config = config or CollectorConfig.from_env(schemas_dir=state.schemas_dir)
        try:
            meta: Meta | None = open_meta(state.store)
        except NotImplementedError as exc:
            # The server still starts (stats, dashboard); ingestion says why it cannot work.
            log.error("footfall: collector disabled: %s", exc)
            meta = None
        self.meta = meta
        self.directory = Directory(meta, self.config.site_cache_seconds) if meta else None
        self.limiter = RateLimiter(self.config.rate, self.config.burst)
        self.deduper = Deduper(self.config.dedupe_seconds)
        self.schemas = SchemaRegistry(self.config.schemas_dir, strict=self.config.strict_schemas)
        self.tracker = state.tracker
        # Failed events get the privacy step of the chain that stores events.
        chain = list(self.tracker.processors) if self.tracker is not None else []
        self.failed = (
            FailedWriter(meta, chain, max_bytes=self.config.failed_bytes) if meta else None
        )
        # Held below one batch, a queue would wake its worker only by the timer
        # (a store asking for big batches): let two batches queue before waiting.
        batch = int(getattr(getattr(self.tracker, "worker", None), "batch_size", 0) or 0)
        self.admission = Admission(max(self.config.admit_depth, 2 * batch), self.config.admit_wait)

    # -- per request --------------------------------------------------------
    async def authenticate(self, authorization: str | None) -> Token | None:
        if authorization is None:
            return None
        if self.directory is None:
            raise Rejected(501, NO_META)
        scheme, _, secret = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Rejected(401, "Authorization must be 'Bearer <API token>'")
        token = self.directory.token(secret.strip())
        if isinstance(token, str):  # RETRY: maybe made since the lists were loaded
            await asyncio.to_thread(self.directory.reload_after_miss)
            token = self.directory.token(secret.strip())
        if token is None or isinstance(token, str):
            raise Rejected(401, "unknown or revoked API token")
        return token

    def check_rate(
        self, ip: str, token: Token | None, cost: float = 1.0, *, paid: float = 0.0
    ) -> None:
        if token is not None or cost <= 0:
            return
        wait = self.limiter.take(rate_key(ip), cost, paid=paid)
        if wait > 0:
            raise Rejected(429, "too many requests from this address", retry_after=wait)

    async def admit(self) -> None:
        await self.admission(self.tracker)

    # -- per event ----------------------------------------------------------
    def _check_site(self, event: Event, token: Token | None) -> EventError | None:
        if self.directory is None:
            return EventError(-1, "site", NO_META, 501)
        if not event.site:
            if token is not None and token.site:
                event.site = token.site
            else:
                return EventError(-1, "site", "is required (the site's domain)")
        site = self.directory.site(event.site)
        if site is None:
            return EventError(-1, "site", f"unknown site {event.site[:200]!r}", 404)
        event.site = site.domain
        if token is not None and not token.allows(site.domain):
            return EventError(-1, "site", "the API token is not valid for this site", 403)
        return None

    def ingest(
        self,
        events: Sequence[Event],
        *,
        token: Token | None,
        ip: str,
        user_agent: str,
        payloads: Sequence[Any] | None = None,
        prevalidated: bool = False,
    ) -> IngestResult:
        result = IngestResult()
        dedupe = self.deduper.window > 0 and token is None
        client = None if token is not None else rate_key(ip)  # whose failed-event budget
        send = self.tracker.send
        for i, event in enumerate(events):
            err = self._check_site(event, token)
            if err is not None:
                result.errors.append(EventError(i, err.field, err.reason, err.status))
                continue
            if not event.ip:
                event.ip = ip
            if not event.user_agent:
                event.user_agent = user_agent
            if not prevalidated:
                try:
                    validate(event)
                except ValidationError as exc:
                    result.errors.append(EventError(i, exc.field, exc.reason))
                    continue
            if (
                dedupe
                and event.name == "pageview"
                and self.deduper.seen(event.site, event.ip, event.user_agent, event.url)
            ):
                result.deduplicated += 1
                continue
            if event.schema:
                reason = self.schemas.validate(event.schema, event.props)
                if reason is not None:
                    payload = payloads[i] if payloads is not None else ""
                    why = self.keep_failed(payload, reason, event=event, client=client)
                    if why is None:
                        result.failed += 1
                        result.errors.append(EventError(i, "props", reason, 422, kept=True))
                    else:
                        result.errors.append(EventError(i, "props", f"{reason}; {why}", 422))
                    continue
            if send(event):
                result.accepted += 1
            else:
                result.errors.append(EventError(i, "event", "server busy, queue full", 503))
        return result

    def store_failed(
        self,
        payload: Any,
        reason: str,
        *,
        event: Event | None = None,
        site: str = "",
        source: str = "",
        schema: str = "",
        client: str | None = None,
    ) -> bool:
        """`keep_failed`, answering only whether the failed event was queued."""
        why = self.keep_failed(
            payload, reason, event=event, site=site, source=source, schema=schema, client=client
        )
        return why is None

    def keep_failed(
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
        """Queue one failed event; None when queued, else why it was not kept.

        `client` is an anonymous sender's rate key, charged for the bytes kept
        (`FOOTFALL_FAILED_BYTES`); None for a token's sender, which is not capped.
        """
        if self.failed is None:
            log.warning("footfall: failed event dropped (no failed-events table): %s", reason)
            return "not kept: this store has no failed-events table"
        return self.failed.add(
            payload, reason, event=event, site=site, source=source, schema=schema, client=client
        )

    def flush(self, timeout: float | None = 5.0) -> bool:
        """Wait until queued failed events are written (tests, shutdown)."""
        return self.failed.flush(timeout) if self.failed is not None else True

    def close(self) -> None:
        if self.failed is not None:
            self.failed.close()


def collector_for(state: Any) -> Collector:
    """The `Collector` of this server process (one per `ServerState`)."""
    found: Collector | None = state.extras.get(_EXTRAS_KEY)
    if found is None:
        found = Collector(state)
        state.extras[_EXTRAS_KEY] = found
    return found


def validate_self_describing(state: Any, schema_uri: str, data: Any) -> str | None:
    """Check one self-describing event's data against the server's registry.

    `state` is the `ServerState`; returns None when the data is acceptable,
    else the reason (invalid data, a malformed URI, or an unknown schema while
    strict). The caller decides what to do with a failure; the collector
    keeps such events as failed events (see `Collector.ingest`).
    """
    return collector_for(state).schemas.validate(schema_uri, data)
