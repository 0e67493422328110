"""Collector endpoints: `POST /api/event`, the pixel, `/js/footfall.js`, Snowplow's.

Each handler does only what must happen before answering: size checks,
parsing, the per-event checks in `Collector.ingest`, and enqueueing. Every
refusal is a 4xx with a JSON `{"error": reason}` (or per-event errors); the
store is written by the tracker's background worker.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from footfall.clientip import client_ip, header_value
from footfall.collector import snowplow
from footfall.collector.admission import RETRY_AFTER_SECONDS
from footfall.collector.http import GIF, GIF_HEADERS, client_address, read_body
from footfall.collector.ingest import EventError, IngestResult, Rejected, collector_for
from footfall.collector.parse import build_event, decode_body, events_of
from footfall.errors import ValidationError
from footfall.event import Event

__all__ = ["CORS_HEADERS", "routes"]

log = logging.getLogger("footfall.collector")

STATIC = Path(__file__).parent / "static"
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Authorization",
    "Access-Control-Max-Age": "86400",
}
JSON_TYPES = ("application/json", "text/plain", "application/x-www-form-urlencoded", "")
MAX_QUERY_FIELD = 4_000
INGEST_SLICE = 25  # events of a POST built and queued at a time (see post_event)


def _json(body: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> Response:
    if status == 503:  # queue full: say when to come back (senders hold and retry)
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS), **(headers or {})}
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/json",
        headers={**CORS_HEADERS, **(headers or {})},
    )


def _refusal(exc: Rejected) -> Response:
    headers = {}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(max(1, int(exc.retry_after + 0.999)))
    return _json({"error": exc.reason}, exc.status, headers)


def decode_content(body: bytes, encoding: str, limit: int) -> bytes:
    """Undo `Content-Encoding: gzip` (HttpSink sends it), bounding the *decoded* size.

    The limit applies after decompression, so a small gzip bomb is refused
    (413) before it can grow past `limit` bytes in memory.
    """
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "x-gzip"):
        raise Rejected(415, f"Content-Encoding {encoding[:40]!r} is not supported (use gzip)")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error:
        raise Rejected(400, "body is not valid gzip") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise Rejected(413, f"decompressed body larger than {limit} bytes")
    if not inflater.eof:
        raise Rejected(400, "gzip body is truncated")
    return out


async def post_event(request: Request) -> Response:
    collector = collector_for(request.app.state.footfall)
    try:
        ip = client_address(request, collector)
        token = await collector.authenticate(request.headers.get("authorization"))
        collector.check_rate(ip, token)
        ctype = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if ctype not in JSON_TYPES:
            raise Rejected(415, "send JSON as application/json or text/plain")
        await collector.admit()
        body = await read_body(request, collector.config.max_body_bytes)
        body = decode_content(
            body, request.headers.get("content-encoding", ""), collector.config.max_body_bytes
        )
        try:
            raws = events_of(decode_body(body), collector.config.max_events)
        except ValidationError as exc:
            raise Rejected(400, f"{exc.field} {exc.reason}") from None
        collector.check_rate(ip, token, cost=len(raws) - 1, paid=1)  # a token per event
    except Rejected as exc:
        return _refusal(exc)
    trusted = token is not None
    source = "api" if trusted else "browser"
    nul_keys = b"\\u0000" in body
    # A token's sender is a backend: its User-Agent is its HTTP client's and its
    # address the backend's, not the visitor's, so its events carry only the
    # `user_agent` and `ip` they were given (else they would all be one visitor).
    user_agent = "" if trusted else request.headers.get("user-agent", "")[:1000]
    visitor_ip = "" if trusted else ip
    result = IngestResult()
    errors: list[EventError] = []
    # Built and queued a slice at a time: once the queue is full, the rest of the
    # request is refused unparsed, so a saturated server spends its CPU on the
    # worker that drains the queue rather than on events it must refuse anyway.
    for start in range(0, len(raws), INGEST_SLICE):
        events: list[Event] = []
        index: list[int] = []
        for i in range(start, min(start + INGEST_SLICE, len(raws))):
            try:
                events.append(
                    build_event(raws[i], trusted=trusted, source=source, nul_keys=nul_keys)
                )
                index.append(i)
            except ValidationError as exc:
                errors.append(EventError(i, exc.field, exc.reason))
        part = collector.ingest(
            events,
            token=token,
            ip=visitor_ip,
            user_agent=user_agent,
            payloads=[raws[i] for i in index] if any(e.schema for e in events) else None,
            prevalidated=True,
        )
        result.accepted += part.accepted
        result.deduplicated += part.deduplicated
        result.failed += part.failed
        # Report positions in the request, not in the list of events built from it.
        errors += [
            EventError(index[e.index], e.field, e.reason, e.status, e.kept) for e in part.errors
        ]
        if any(e.status == 503 for e in part.errors):
            errors += [
                EventError(i, "event", "server busy, queue full", 503)
                for i in range(start + INGEST_SLICE, len(raws))
            ]
            break
    result.errors = sorted(errors, key=lambda e: e.index)
    return _json(result.as_dict(), result.status())


async def options_event(request: Request) -> Response:
    return Response(status_code=204, headers=CORS_HEADERS)


_QUERY_NAMES = {
    "site": "site",
    "d": "site",
    "domain": "site",
    "url": "url",
    "u": "url",
    "ref": "referrer",
    "r": "referrer",
    "name": "name",
    "n": "name",
    "title": "title",
    "w": "screen",
}


def _query_event(query: bytes, page: str | None) -> dict[str, Any]:
    """Event fields from a pixel's query string; `page` (Referer) is the default url."""
    if len(query) > 4 * MAX_QUERY_FIELD:
        raise ValidationError("query", "query string too long")
    raw: dict[str, Any] = {}
    try:
        pairs = parse_qsl(query.decode("latin-1"), encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise ValidationError("query", "is not valid UTF-8") from None
    for key, value in pairs:
        name = _QUERY_NAMES.get(key)
        if name is not None:
            if len(value) > MAX_QUERY_FIELD:
                raise ValidationError(name, f"longer than {MAX_QUERY_FIELD} characters")
            raw[name] = value
    if "url" not in raw and page and page[:8].lower().startswith(("http://", "https://")):
        raw["url"] = page[:MAX_QUERY_FIELD]  # the page embedding the pixel
    return raw


_GIF_RAW_HEADERS = [
    (b"content-type", b"image/gif"),
    (b"content-length", str(len(GIF)).encode()),
    *((k.lower().encode(), v.encode()) for k, v in GIF_HEADERS.items()),
]


class _Pixel:
    """`GET /api/event.gif` as a bare ASGI endpoint.

    The pixel is the one-event-per-request path, so it skips Starlette's
    Request/Response objects: headers are read straight from the scope and
    the GIF answer is pre-built.
    """

    def __init__(self, state: Any) -> None:
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        collector = collector_for(self.state)
        headers: dict[bytes, bytes] = dict(scope["headers"])
        client = scope.get("client")
        ip = client_ip(
            client[0] if client else "",
            header_value(scope["headers"], b"x-forwarded-for"),
            collector.config.trusted_proxies,
        )
        try:
            collector.check_rate(ip, None)
            await collector.admit()
            referer = headers.get(b"referer")
            page = referer.decode("latin-1") if referer else None
            event = build_event(
                _query_event(scope["query_string"], page), trusted=False, source="browser"
            )
            result = collector.ingest(
                [event],
                token=None,
                ip=ip,
                user_agent=headers.get(b"user-agent", b"")[:1000].decode("latin-1"),
                prevalidated=True,
            )
        except Rejected as exc:
            await _refusal(exc)(scope, receive, send)
            return
        except ValidationError as exc:
            await _json({"error": f"{exc.field} {exc.reason}"}, 400)(scope, receive, send)
            return
        status = result.status()
        if status >= 400:
            await _json(result.as_dict(), status)(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 200, "headers": _GIF_RAW_HEADERS})
        await send({"type": "http.response.body", "body": GIF})


class _Script:
    """footfall.js read once per change of the file, with its gzip and ETag."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._key: tuple[float, int] | None = None
        self._raw = b""
        self._gz = b""
        self._etag = ""

    def load(self) -> tuple[bytes, bytes, str] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        key = (st.st_mtime, st.st_size)
        if key != self._key:
            raw = self.path.read_bytes()
            self._raw, self._gz = raw, gzip.compress(raw, 9, mtime=0)
            self._etag = '"' + hashlib.sha256(raw).hexdigest()[:20] + '"'
            self._key = key
        return self._raw, self._gz, self._etag


def _script_route() -> Route:
    script = _Script(STATIC / "footfall.js")

    async def serve_script(request: Request) -> Response:
        found = script.load()
        if found is None:
            return Response("footfall.js is not built", 404, media_type="text/plain")
        raw, gz, etag = found
        headers = {
            "Cache-Control": "public, max-age=3600, stale-while-revalidate=86400",
            "ETag": etag,
            "Vary": "Accept-Encoding",
            "Access-Control-Allow-Origin": "*",
        }
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        body = raw
        if "gzip" in request.headers.get("accept-encoding", ""):
            body = gz
            headers["Content-Encoding"] = "gzip"
        return Response(body, media_type="application/javascript; charset=utf-8", headers=headers)

    return Route("/js/footfall.js", serve_script, methods=["GET", "HEAD"])


def routes(state: Any) -> list[BaseRoute]:
    """The collector's routes; creates the process's `Collector` up front."""
    collector_for(state)
    return [
        Route("/api/event", post_event, methods=["POST"]),
        Route("/api/event", options_event, methods=["OPTIONS"]),
        Route("/api/event.gif", _Pixel(state), methods=["GET"]),
        _script_route(),
        *snowplow.routes(state),
    ]
