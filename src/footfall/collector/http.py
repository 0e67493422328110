"""HTTP pieces every collector endpoint shares: the GIF answer, the client address,
the bounded body read.

Both the JSON/pixel endpoints (`routes.py`) and Snowplow's (`snowplow.py`) use
them, so they live below both.
"""

from __future__ import annotations

import base64

from starlette.requests import Request

from footfall.clientip import client_ip, header_value
from footfall.collector.ingest import Collector, Rejected
from footfall.request_body import BodyRefused, read_limited

__all__ = ["GIF", "GIF_HEADERS", "client_address", "read_body"]

GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
GIF_HEADERS = {
    "Cache-Control": "no-store, no-cache, must-revalidate, max-age=0",
    "Pragma": "no-cache",
    "Access-Control-Allow-Origin": "*",
}


def client_address(request: Request, collector: Collector) -> str:
    """The client IP: socket peer, or X-Forwarded-For behind configured trusted proxies."""
    peer = request.client.host if request.client else ""
    forwarded = header_value(request.scope["headers"], b"x-forwarded-for")
    return client_ip(peer, forwarded, collector.config.trusted_proxies)


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refusing (413) before reading more than `limit` bytes."""
    try:
        return await read_limited(request, limit)
    except BodyRefused as exc:
        raise Rejected(exc.status, exc.reason) from None
