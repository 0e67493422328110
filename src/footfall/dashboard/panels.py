"""The panels of a site dashboard: which breakdowns each one shows.

Each tab is one `GET /api/v1/stats/breakdown` call the browser makes; the
result rows are keyed by the property's last part (`page`, `source`, ...),
as in Plausible's Stats API v1.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PANELS", "SERVER_PANELS", "Panel", "Tab", "props_panel"]


@dataclass(frozen=True)
class Tab:
    label: str
    prop: str
    metrics: str = "visitors"
    sort: str = ""  # a metric to sort by in the browser (default: the API's order)
    skip: str = ""  # comma-separated values not to list (pageviews are not custom events)

    @property
    def key(self) -> str:
        """The breakdown row's key: the property's last part."""
        return self.prop.rsplit(":", 1)[1]


@dataclass(frozen=True)
class Panel:
    id: str
    title: str
    tabs: tuple[Tab, ...]
    wide: bool = False


PANELS = (
    Panel(
        "pages",
        "Pages",
        (
            Tab("Top pages", "event:page", "visitors,pageviews"),
            Tab("Entry pages", "visit:entry_page", "visitors,visits"),
            Tab("Exit pages", "visit:exit_page", "visitors,visits"),
        ),
    ),
    Panel(
        "sources",
        "Sources",
        (
            Tab("Sources", "visit:source"),
            Tab("Referrers", "visit:referrer"),
            Tab("UTM source", "visit:utm_source"),
            Tab("UTM medium", "visit:utm_medium"),
            Tab("UTM campaign", "visit:utm_campaign"),
        ),
    ),
    Panel(
        "locations",
        "Locations",
        (
            Tab("Countries", "visit:country"),
            Tab("Regions", "visit:region"),
            Tab("Cities", "visit:city"),
        ),
    ),
    Panel(
        "devices",
        "Devices",
        (
            Tab("Browsers", "visit:browser"),
            Tab("OS", "visit:os"),
            Tab("Devices", "visit:device"),
        ),
    ),
    Panel(
        "events",
        "Custom events",
        (Tab("Events", "event:name", "visitors,events", skip="pageview,request"),),
    ),
)

# Shown when the site has server-side requests (the page asks the API first).
SERVER_PANELS = (
    Panel("status", "Status codes", (Tab("Status", "event:status", "requests"),)),
    Panel(
        "slowest",
        "Slowest endpoints",
        (Tab("p95 duration", "event:page", "requests,duration_p95", sort="duration_p95"),),
    ),
)


def props_panel(event_name: str, keys: list[str]) -> Panel | None:
    """Properties of one custom event, one tab per key (shown when filtered to it)."""
    if not keys:
        return None
    tabs = tuple(Tab(key, f"event:props:{key}", "visitors,events") for key in keys)
    return Panel("props", f"Properties of {event_name}", tabs)
