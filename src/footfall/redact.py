"""Hide the secrets in a connection URL before it is shown to anyone.

Store, Redis, broker and collector URLs carry passwords and tokens
(`postgresql://app:s3cret@db/footfall`, `redis://:s3cret@cache:6379/0`,
`https://collector/api/event?token=...`). They end up in `repr()`s that
logging prints, in CLI output and in error messages, which land in terminals,
CI logs and bug reports. Every place that shows such a URL passes it through
`redact_url` first, so the rule lives in one place.
"""

from __future__ import annotations

import re

__all__ = ["MASK", "redact_url"]

MASK = "***"

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
# key=value pairs whose value is a secret, in a query string (`?password=`)
# or a libpq keyword string (`host=db password=...`).
_SECRET_PAIR = re.compile(
    r"(?P<key>(?:^|(?<=[?&;\s]))[A-Za-z0-9_\-]*"
    r"(?:password|passwd|pwd|secret|token|api[_\-]?key|apikey|auth|credential|signature)"
    r"[A-Za-z0-9_\-]*)=(?P<value>[^&;\s#]*)",
    re.IGNORECASE,
)


def _mask_userinfo(text: str) -> str:
    scheme = _SCHEME.match(text)
    if scheme is None:
        return text
    head = scheme.end()
    stop = min(
        (i for i in (text.find("?", head), text.find("#", head)) if i >= 0), default=len(text)
    )
    # The last `@` before the query: a password may hold an unescaped `@` or
    # `/`, and a wrong guess must hide too much rather than too little.
    at = text.rfind("@", head, stop)
    if at < 0:
        return text
    userinfo = text[head:at]
    user, colon, _ = userinfo.partition(":")
    if colon and "/" not in user:
        return f"{text[:head]}{user}:{MASK}{text[at:]}"
    if not colon and "/" not in userinfo and text[:head].lower() in ("http://", "https://"):
        # `https://TOKEN@host`: a lone userinfo on the web is a token. Elsewhere
        # (`postgresql://app@db`) it is a user name, which stays readable.
        return f"{text[:head]}{MASK}{text[at:]}"
    return text


def redact_url(url: object) -> str:
    """`url` with its password, userinfo token and secret query values replaced by `***`.

    The scheme, user name, host, port, path and other parameters stay, so the
    text still says which server and database it points at. Never raises: a
    value that is not a string is shown through `str()` first.
    """
    text = "" if url is None else str(url)
    if not text:
        return text
    text = _mask_userinfo(text)
    return _SECRET_PAIR.sub(lambda m: f"{m['key']}={MASK}" if m["value"] else m[0], text)
