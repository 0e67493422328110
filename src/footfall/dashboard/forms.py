"""Reading a POSTed dashboard form within a size limit, before anyone is authenticated.

The login, logout and setup forms are open to anyone, so their body is
untrusted: it is refused past `MAX_FORM_BYTES` (413) before more than that is
read, and parsed only as the URL-encoded form the pages send, with at most
`MAX_FIELDS` fields. Starlette's own `request.form()` would read a body of
any size into memory, and spool multipart uploads to disk.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request

from footfall.errors import FootfallError
from footfall.request_body import BodyRefused, read_limited

__all__ = ["MAX_FIELDS", "MAX_FORM_BYTES", "FormRefused", "read_form"]

# Two passwords of the longest allowed length (1,024 characters, up to 9 bytes
# each once UTF-8 and percent-encoded), a name, a token and the CSRF field fit.
MAX_FORM_BYTES = 32 * 1024
MAX_FIELDS = 16
FORM_TYPE = "application/x-www-form-urlencoded"


class FormRefused(FootfallError):
    """A form the dashboard will not read: `status` (4xx) and a `reason` to show."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


async def _read_body(request: Request, limit: int) -> bytes:
    try:
        return await read_limited(request, limit)
    except BodyRefused as exc:
        if exc.status == 413:
            raise FormRefused(413, f"The form is larger than {limit} bytes.") from None
        raise FormRefused(exc.status, f"{exc.reason}.") from None


async def read_form(request: Request, limit: int = MAX_FORM_BYTES) -> dict[str, str]:
    """The URL-encoded form of a POST as {name: first value}; `FormRefused` otherwise."""
    ctype = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if ctype not in ("", FORM_TYPE):
        raise FormRefused(415, f"Forms are sent as {FORM_TYPE}.")
    body = await _read_body(request, limit)
    try:
        pairs = parse_qsl(
            body.decode("utf-8", "replace"),
            keep_blank_values=True,
            encoding="utf-8",
            errors="replace",
            max_num_fields=MAX_FIELDS,
        )
    except ValueError:
        raise FormRefused(400, f"The form has more than {MAX_FIELDS} fields.") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        form.setdefault(key, value)
    return form
