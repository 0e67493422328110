"""The visit cookie of cookie mode: a random key, first party, HttpOnly.

Shared by every integration (the WSGI/ASGI middleware set it with a header,
Django through its response API); `footfall.integrations.request` re-exports
these names.
"""

from __future__ import annotations

import re
import secrets

__all__ = [
    "DEFAULT_COOKIE_MAX_AGE",
    "DEFAULT_COOKIE_NAME",
    "cookie_header",
    "new_visit_key",
    "read_cookie",
    "valid_key",
]

DEFAULT_COOKIE_NAME = "footfall_visit"
# Seconds. The key names a browser; visits inside it are split by idle time.
DEFAULT_COOKIE_MAX_AGE = 365 * 24 * 3600
_KEY_RE = re.compile(r"[A-Za-z0-9_-]{16,64}\Z")


def new_visit_key() -> str:
    """A random, unguessable key: 128 bits, URL- and cookie-safe."""
    return secrets.token_urlsafe(16)


def valid_key(value: str | None) -> bool:
    """Whether a cookie value could be a key we issued (else a new one is made)."""
    return bool(value) and _KEY_RE.match(value or "") is not None


def read_cookie(header: str | None, name: str) -> str | None:
    """One cookie's value from a `Cookie` header, without parsing the rest."""
    if not header or name not in header:
        return None
    for part in header.split(";"):
        key, sep, value = part.partition("=")
        if sep and key.strip() == name:
            return value.strip().strip('"')
    return None


def cookie_header(name: str, value: str, max_age: int, secure: bool) -> str:
    """The `Set-Cookie` value: first party, HttpOnly, SameSite=Lax, Secure on https."""
    attrs = f"{name}={value}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Lax"
    return attrs + "; Secure" if secure else attrs
