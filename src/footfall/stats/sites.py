"""What the stats engine needs to know about a site: its time zone, whether it is
public, whether an API token may read it, and its saved goals.

Read through the collector's `footfall.stores.meta` interface; a store
without it (or a site not registered) is treated as a private site in UTC.
A store that has it but fails to answer is not: the error is logged and the
request refused with `StatsUnavailable` (503), never read as "private, UTC"
(wrong numbers) or "invalid token" (a 401 that sends the caller to fix a
token that is fine).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from footfall.stats.errors import StatsUnavailable
from footfall.stores.base import EventFilter
from footfall.stores.budget import QueryTimeout
from footfall.stores.meta import Meta, SavedGoal, hash_token, open_meta
from footfall.stores.rows import from_micros

__all__ = [
    "SiteInfo",
    "first_seen",
    "needs_goals",
    "site_goals",
    "site_info",
    "site_known",
    "token_allows",
]

log = logging.getLogger("footfall.stats")


@dataclass(frozen=True)
class SiteInfo:
    domain: str
    timezone: str = "UTC"
    public: bool = False
    registered: bool = False


def _meta(store: Any) -> Meta | None:
    """The store's sites and tokens, or None for a store that keeps none (ClickHouse)."""
    try:
        return open_meta(store)
    except NotImplementedError:
        return None


def _unavailable(what: str, exc: Exception) -> StatsUnavailable:
    log.warning("footfall: could not read %s: %s", what, exc, exc_info=exc)
    return StatsUnavailable(f"could not read {what} from the store ({type(exc).__name__})")


def site_info(store: Any, site: str) -> SiteInfo:
    """The site's settings; `StatsUnavailable` when the store cannot say."""
    meta = _meta(store)
    found = None
    if meta is not None:
        try:
            found = meta.get_site(site)
        except QueryTimeout:
            raise  # out of time: answered as such (503), not as a site without settings
        except Exception as exc:
            raise _unavailable("the site's settings", exc) from exc
    if found is None:
        return SiteInfo(site)
    return SiteInfo(site, found.timezone or "UTC", bool(found.public), True)


def needs_goals(filters: str | None, prop: str | None) -> bool:
    """Whether a query with these parameters reads the site's saved goals."""
    return "event:goal" in (filters or "") or (prop or "").strip() == "event:goal"


def site_goals(store: Any, site: str) -> list[SavedGoal]:
    """The site's saved goals (none for a store without metadata); `StatsUnavailable`
    when the store cannot say (a goal read as missing would change its numbers)."""
    meta = _meta(store)
    if meta is None:
        return []
    try:
        return meta.list_goals(site)
    except QueryTimeout:
        raise
    except Exception as exc:
        raise _unavailable("the site's goals", exc) from exc


def site_known(store: Any, site: str) -> bool:
    """Whether `site` is registered or has events; `StatsUnavailable` when the store cannot say.

    A site need not be registered to have stats (an in-process `Tracker`
    writes events for any site name), so only a name with neither is unknown:
    usually a typo, which deserves "unknown site" rather than a page of zeros.
    """
    if site_info(store, site).registered:
        return True
    try:
        # The newest event of the site: one probe of the (site, ts) index.
        return bool(store.get_usage(limit=1, filters=EventFilter(site=site)))
    except QueryTimeout:
        raise
    except Exception as exc:
        raise _unavailable("the site's events", exc) from exc


def token_allows(store: Any, secret: str, site: str) -> bool | None:
    """True if the token may read `site`, False if it is valid for other sites only,
    None if it is not a valid token at all; `StatsUnavailable` when the store cannot say."""
    meta = _meta(store)
    if meta is None or not secret:
        return None
    try:
        token = meta.active_tokens().get(hash_token(secret))
    except QueryTimeout:
        raise
    except Exception as exc:
        raise _unavailable("the API tokens", exc) from exc
    if token is None:
        return None
    return bool(token.allows(site))


def first_seen(store: Any, site: str) -> datetime | None:
    """When the site's first event happened (for period=all)."""
    rows = store.query("SELECT MIN(ts) FROM events WHERE site = ?", (site,))
    return from_micros(rows[0][0]) if rows and rows[0][0] is not None else None
