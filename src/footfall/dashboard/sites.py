"""Which sites exist, which are public, who may read them.

Sites come from the collector's `sites` table (through
`footfall.stores.meta.open_meta`), joined with the sites that simply have
events (data loaded by `footfall demo` or an importer before anyone ran
`sites add`). A site is readable by anyone logged in, and by everyone when
its `public` flag is set.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from footfall.stats.prop_keys import prop_keys
from footfall.stores.base import Store
from footfall.stores.meta import Meta, SavedGoal, open_meta

__all__ = ["SiteDirectory", "SiteInfo"]

log = logging.getLogger("footfall.dashboard")

CACHE_SECONDS = 10.0

# Distinct sites through the (site, ts) index without scanning every row:
# each step jumps to the next larger site value.
_SKIP_SCAN = (
    "WITH RECURSIVE s(site) AS ("
    " SELECT MIN(site) FROM events"
    " UNION ALL SELECT (SELECT MIN(site) FROM events WHERE site > s.site) FROM s"
    " WHERE s.site IS NOT NULL) "
    "SELECT site FROM s WHERE site IS NOT NULL LIMIT 1000"
)


@dataclass(frozen=True)
class SiteInfo:
    domain: str
    public: bool = False
    timezone: str = "UTC"
    registered: bool = False


class SiteDirectory:
    """Reads sites for the dashboard, with a short cache (pages ask often)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._cached: tuple[float, dict[str, SiteInfo]] | None = None

    def _meta(self) -> Meta | None:
        """The store's sites and tokens, or None for a store that keeps none (ClickHouse)."""
        try:
            return open_meta(self.store)
        except NotImplementedError:
            return None

    def _load(self) -> dict[str, SiteInfo]:
        found: dict[str, SiteInfo] = {}
        meta = self._meta()
        if meta is not None:
            try:
                for site in meta.list_sites():
                    found[site.domain] = SiteInfo(
                        site.domain, bool(site.public), site.timezone, True
                    )
            except Exception as exc:
                # Still list the sites that have events, each private (the safe default).
                log.warning("footfall: could not read the sites: %s", exc, exc_info=exc)
        if self.store.dialect == "sqlite":
            for (domain,) in self.store.query(_SKIP_SCAN):
                if domain and domain not in found:
                    found[domain] = SiteInfo(str(domain))
        return dict(sorted(found.items()))

    def all(self) -> dict[str, SiteInfo]:
        now = time.monotonic()
        if self._cached is None or self._cached[0] < now:
            self._cached = (now + CACHE_SECONDS, self._load())
        return self._cached[1]

    def forget(self) -> None:
        self._cached = None

    def get(self, domain: str) -> SiteInfo | None:
        return self.all().get(domain)

    def visible(self, user: str | None) -> list[SiteInfo]:
        """Sites this viewer may open: all when logged in, public ones otherwise."""
        return [s for s in self.all().values() if user or s.public]

    def readable(self, domain: str, user: str | None) -> bool:
        site = self.get(domain)
        return site is not None and (bool(user) or site.public)

    def failed(self, site: str | None, limit: int = 200) -> list[Any]:
        """The failed-events list (newest last), or [] when the store keeps none."""
        meta = self._meta()
        if meta is None:
            return []
        try:
            rows: list[Any] = meta.list_failed(status=None, limit=limit, site=site or None)
        except Exception as exc:
            log.warning("footfall: could not read the failed events: %s", exc, exc_info=exc)
            return []
        return rows

    def goals(self, site: str) -> list[SavedGoal]:
        """The site's saved goals, or [] when the store keeps none."""
        meta = self._meta()
        if meta is None:
            return []
        try:
            return meta.list_goals(site)
        except Exception as exc:
            log.warning("footfall: could not read the goals: %s", exc, exc_info=exc)
            return []

    def manageable(self, domain: str, user: str | None) -> bool:
        """Whether this viewer may change the site's settings (its goals).

        Every dashboard user is an administrator (the stats API lets any of
        them read any site); anonymous readers of a public site change nothing.
        """
        return bool(user) and self.get(domain) is not None

    def prop_keys(
        self, site: str, start: datetime, end: datetime, event: str | None = None, limit: int = 50
    ) -> list[str]:
        """Custom property keys of the site's events in [start, end), most common first
        (`footfall.stats.prop_keys`); [] when the store cannot say."""
        try:
            return prop_keys(self.store, site, start, end, event=event, limit=limit)
        except Exception as exc:
            # A page still opens without the Properties panel (a store without stats
            # SQL, a ClickHouse server that is away).
            log.warning("footfall: could not list property keys: %s", exc, exc_info=exc)
            return []
