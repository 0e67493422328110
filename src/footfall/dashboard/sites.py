"""Which sites exist, which are public, who may read them.

Sites come from the collector's `sites` table (through
`footfall.stores.meta.open_meta`), joined with the sites that simply have
events (data loaded by `footfall demo` or an importer before anyone ran
`sites add`). A site is readable by anyone logged in, and by everyone when
its `public` flag is set.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from footfall.stores.base import Store
from footfall.stores.meta import Meta, open_meta

__all__ = ["SiteDirectory", "SiteInfo"]

log = logging.getLogger("footfall.dashboard")

CACHE_SECONDS = 10.0
PROP_SAMPLE_ROWS = 2_000  # prop keys are read from the latest N events of a name
MAX_PROP_KEYS = 12

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

    def prop_keys(self, site: str, event_name: str) -> list[str]:
        """Property keys seen on the latest events called `event_name`."""
        if self.store.dialect != "sqlite":
            return []
        rows = self.store.query(
            "SELECT props FROM events WHERE site = ? AND name = ? ORDER BY ts DESC LIMIT ?",
            [site, event_name, PROP_SAMPLE_ROWS],
        )
        keys: dict[str, None] = {}
        for (raw,) in rows:
            try:
                props = json.loads(raw)
            except (TypeError, ValueError):
                continue
            if isinstance(props, dict):
                for key in props:
                    if isinstance(key, str) and 0 < len(key) <= 100:
                        keys[key] = None
            if len(keys) >= MAX_PROP_KEYS:
                break
        return sorted(keys)
