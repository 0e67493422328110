"""The sites the demo data uses, registered so the collector and dashboard know them."""

from __future__ import annotations

import logging

from footfall.sites import add_site
from footfall.stores.base import Store

__all__ = ["DEMO_SITES", "register_demo_sites"]

log = logging.getLogger("footfall.demo")

# domain -> (time zone, public dashboard)
DEMO_SITES = {
    "demo.footfall.dev": ("UTC", True),
    "shop.example.com": ("Europe/Berlin", False),
    "api.example.com": ("UTC", False),
}


def register_demo_sites(store: Store) -> None:
    """Add the demo sites if missing (existing ones are left as they are).

    A store backend without sites support yet is skipped with a log line:
    demo data is still useful without registered sites.
    """
    try:
        for domain, (tz, public) in DEMO_SITES.items():
            add_site(store, domain, timezone=tz, public=public)
    except NotImplementedError as exc:
        log.warning("footfall: demo sites not registered: %s", exc)
