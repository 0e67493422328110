"""Snowplow collector endpoints, so Snowplow trackers send to footfall unchanged.

- `GET /i` and `GET /ice.png`: one event in the query string; answers a 1x1 GIF.
- `POST /com.snowplowanalytics.snowplow/tp2`: a `payload_data` envelope of
  events; answers 200 `ok`.
- `OPTIONS` on both, for browsers' CORS preflight (the JavaScript tracker
  posts `application/json` with credentials, so it asks first).

Decoding is in `snowplow_protocol`; site checks, rate limits, schema
validation and enqueueing are the shared `Collector.ingest`. What this module
adds is the status-code policy: Snowplow trackers retry every failure except
400, 401, 403, 410 and 422, so an event that can never be accepted (malformed,
unknown site, bad schema URI) is answered with 400 or 422 -- never 404 or 413,
which would be retried forever -- while 429 and 503 are kept so a tracker backs
off and retries. Events of a batch are judged one by one: the good ones are
stored even when others in the same request are refused, and a retried batch
is stored once because the event id is Snowplow's `eid`.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from footfall.collector.admission import RETRY_AFTER_SECONDS
from footfall.collector.http import GIF, GIF_HEADERS, client_address, read_body
from footfall.collector.ingest import Collector, EventError, Rejected, collector_for
from footfall.collector.limits import rate_key
from footfall.collector.parse import BAD_SCHEMES
from footfall.collector.snowplow_protocol import (
    SnowplowError,
    decode_envelope,
    event_from_params,
    visitor_agent,
)
from footfall.event import Event, utcnow

__all__ = ["GET_PATHS", "POST_PATH", "routes", "snowplow_status"]

POST_PATH = "/com.snowplowanalytics.snowplow/tp2"
GET_PATHS = ("/i", "/ice.png")
# Headers Snowplow's JavaScript tracker may send on a POST.
ALLOW_HEADERS = "Content-Type, SP-Anonymous, Authorization"
NOT_RETRIED = frozenset({400, 401, 403, 410, 422})
RETRIED = frozenset({429, 503})
MAX_FAILED_PER_REQUEST = 10  # malformed events kept in failed events, per request


def snowplow_status(codes: set[int]) -> int:
    """One answer for a request whose events failed with `codes`.

    A retryable failure wins (the tracker resends the batch; the events
    already stored are skipped by id); otherwise the answer must be one the
    tracker will not retry.
    """
    for code in (503, 429):
        if code in codes:
            return code
    if codes <= {400}:
        return 400
    if len(codes) == 1 and codes <= NOT_RETRIED:
        return codes.pop()
    return 422


def _cors(request: Request) -> dict[str, str]:
    # Echo the origin: the JS tracker sends credentials, and "*" is not allowed
    # with credentials. Nothing is read from cookies, so any origin may post.
    origin = request.headers.get("origin")
    if not origin or len(origin) > 500:
        return {"Access-Control-Allow-Origin": "*"}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Vary": "Origin",
    }


def _answer(request: Request, body: dict[str, Any], status: int, **extra: str) -> Response:
    if status == 503:  # queue full: say when to come back
        extra = {"Retry-After": str(RETRY_AFTER_SECONDS), **extra}
    headers = {**_cors(request), **extra}
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


def _refusal(request: Request, exc: Rejected) -> Response:
    extra = {}
    if exc.retry_after is not None:
        extra["Retry-After"] = str(max(1, int(exc.retry_after + 0.999)))
    status = exc.status if exc.status in NOT_RETRIED | RETRIED else 400
    return _answer(request, {"error": exc.reason}, status, **extra)


def _page(event: Event) -> Event:
    """Refuse script URLs (host, path and UTM come from the URL later, in the worker)."""
    for field, value in (("url", event.url), ("refr", event.referrer)):
        if value[:16].strip().lower().startswith(BAD_SCHEMES):
            raise SnowplowError(field, f"{value.split(':', 1)[0][:12]}: URLs are not allowed")
    return event


def _ingest(
    request: Request, collector: Collector, raws: list[Any], token: Any, ip: str
) -> tuple[int, dict[str, Any]]:
    """Build, check and enqueue every event; return (worst status or 200, report)."""
    now = utcnow()
    events: list[Event] = []
    index: list[int] = []
    errors: list[EventError] = []
    header_agent = request.headers.get("user-agent", "")[:1000]
    from_browser = request.method == "GET" or "origin" in request.headers
    for i, raw in enumerate(raws):
        try:
            event = _page(event_from_params(raw, now=now))
            if not event.user_agent:
                event.user_agent = visitor_agent(
                    event.platform, header_agent, from_browser=from_browser
                )
            events.append(event)
            index.append(i)
        except SnowplowError as exc:
            errors.append(EventError(i, exc.field, exc.reason, exc.status))
            if len(errors) <= MAX_FAILED_PER_REQUEST:
                site = raw.get("aid", "") if isinstance(raw, dict) else ""
                collector.store_failed(
                    raw,
                    f"{exc.field}: {exc.reason}",
                    site=str(site)[:200],
                    source="snowplow",
                    client=None if token is not None else rate_key(ip),
                )
    result = collector.ingest(
        events,
        token=token,
        ip=ip,
        user_agent="",  # each event's own, set above: never the transport's
        payloads=[raws[i] for i in index],
        prevalidated=True,  # checked field by field in event_from_params
    )
    for e in result.errors:
        if not e.kept:  # kept = stored as a failed event; retried with `footfall failed retry`
            errors.append(EventError(index[e.index], e.field, e.reason, e.status))
    report: dict[str, Any] = {"accepted": result.accepted}
    if result.failed:
        report["failed"] = result.failed
    if not errors:
        return 200, report
    errors.sort(key=lambda e: e.index)
    report["rejected"] = len(errors)
    report["errors"] = [e.as_dict() for e in errors[:100]]
    return snowplow_status({e.status for e in errors}), report


def routes(state: Any) -> list[BaseRoute]:
    """Snowplow's collector paths, served by the collector of `state`."""

    async def get_event(request: Request) -> Response:
        gif = Response(GIF, 200, {**GIF_HEADERS, **_cors(request)}, media_type="image/gif")
        if request.method == "HEAD":
            return gif  # uptime checks and link previewers: not an event
        collector = collector_for(state)
        try:
            ip = client_address(request, collector)
            collector.check_rate(ip, None)
        except Rejected as exc:
            return _refusal(request, exc)
        await collector.admit()
        status, report = _ingest(request, collector, [dict(request.query_params)], None, ip)
        if status != 200:
            return _answer(request, report, status)
        return gif

    async def post_events(request: Request) -> Response:
        collector = collector_for(state)
        try:
            ip = client_address(request, collector)
            token = await collector.authenticate(request.headers.get("authorization"))
            collector.check_rate(ip, token)
            await collector.admit()
            body = await read_body(request, collector.config.max_body_bytes)
            raws = decode_envelope(body, collector.config.max_events)
            collector.check_rate(ip, token, cost=len(raws) - 1, paid=1)  # a token per event
        except Rejected as exc:
            return _refusal(request, exc)
        except SnowplowError as exc:
            return _answer(request, {"error": f"{exc.field} {exc.reason}"}, exc.status)
        status, report = _ingest(request, collector, raws, token, ip)
        if status != 200:
            return _answer(request, report, status)
        return Response(b"ok", 200, _cors(request), media_type="text/plain")

    async def preflight(request: Request) -> Response:
        asked = request.headers.get("access-control-request-headers", "")
        headers = {
            **_cors(request),
            "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
            "Access-Control-Allow-Headers": asked[:500] if asked else ALLOW_HEADERS,
            "Access-Control-Max-Age": "86400",
        }
        return Response(status_code=204, headers=headers)

    found: list[BaseRoute] = [Route(POST_PATH, post_events, methods=["POST"])]
    for path in (POST_PATH, *GET_PATHS):
        found.append(Route(path, preflight, methods=["OPTIONS"]))
    for path in GET_PATHS:
        found.append(Route(path, get_event, methods=["GET"]))
    return found
