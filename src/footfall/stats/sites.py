"""What the stats engine needs to know about a site: its time zone, whether it is
public, and whether an API token may read it.

Read through the collector's `footfall.stores.meta` interface; a store
without it (or a site not registered) is treated as a private site in UTC.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from footfall.stores.budget import QueryTimeout
from footfall.stores.rows import from_micros

__all__ = ["SiteInfo", "first_seen", "site_info", "token_allows"]


@dataclass(frozen=True)
class SiteInfo:
    domain: str
    timezone: str = "UTC"
    public: bool = False
    registered: bool = False


def _meta(store: Any) -> Any | None:
    try:
        from footfall.stores.meta import open_meta

        return open_meta(store)
    except (ImportError, NotImplementedError):
        return None


def site_info(store: Any, site: str) -> SiteInfo:
    meta = _meta(store)
    found = None
    if meta is not None:
        try:
            found = meta.get_site(site)
        except QueryTimeout:
            raise  # out of time: not a site without settings
        except Exception:
            found = None
    if found is None:
        return SiteInfo(site)
    return SiteInfo(site, found.timezone or "UTC", bool(found.public), True)


def _hash(secret: str) -> str:
    try:
        from footfall.collector.directory import hash_token

        return hash_token(secret)
    except ImportError:
        return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def token_allows(store: Any, secret: str, site: str) -> bool | None:
    """True if the token may read `site`, False if it is valid for other sites only,
    None if it is not a valid token at all."""
    meta = _meta(store)
    if meta is None or not secret:
        return None
    try:
        token = meta.active_tokens().get(_hash(secret))
    except Exception:
        return None
    if token is None:
        return None
    return bool(token.allows(site))


def first_seen(store: Any, site: str) -> datetime | None:
    """When the site's first event happened (for period=all)."""
    rows = store.query("SELECT MIN(ts) FROM events WHERE site = ?", (site,))
    return from_micros(rows[0][0]) if rows and rows[0][0] is not None else None
