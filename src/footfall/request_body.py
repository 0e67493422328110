"""Reading an untrusted HTTP request body within a byte limit.

Starlette's `request.body()` reads whatever a sender chooses to send; the
collector's endpoints and the dashboard's open forms must refuse a body past
their limit before holding more than that in memory. This is the one place
that does it; each caller turns a refusal into its own answer.
"""

from __future__ import annotations

from starlette.requests import Request

from footfall.errors import FootfallError

__all__ = ["BodyRefused", "read_limited"]


class BodyRefused(FootfallError):
    """A body not read: `status` 400 (a Content-Length that is not a number) or 413."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _declared_length(text: str) -> int:
    text = text.strip()
    # ASCII digits only: `str.isdigit` also accepts "²" or "٣", which `int` refuses.
    if not (text.isascii() and text.isdigit()):
        raise BodyRefused(400, "Content-Length is not a number")
    return int(text)


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, refusing (413) before reading more than `limit` bytes.

    A declared Content-Length past the limit is refused before any of the
    body is read; a body that arrives without one (chunked) or lies about it
    is counted as it streams in.
    """
    too_large = f"body larger than {limit} bytes"
    length = request.headers.get("content-length")
    if length is not None and _declared_length(length) > limit:
        raise BodyRefused(413, too_large)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyRefused(413, too_large)
        chunks.append(chunk)
    return b"".join(chunks)
