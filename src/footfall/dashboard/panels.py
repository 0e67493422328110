"""The panels of a site dashboard: which breakdowns each one shows.

Each tab is one `GET /api/v1/stats/breakdown` call the browser makes; the
result rows are keyed by the property's last part (`page`, `source`, ...),
as in Plausible's Stats API v1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from footfall.stores.meta import SavedGoal

__all__ = [
    "PANELS",
    "PROPERTY_PARAM",
    "SERVER_PANELS",
    "Panel",
    "Tab",
    "goals_panel",
    "properties_panel",
    "props_panel",
]

# The URL parameter naming the custom property the Properties panel breaks down.
PROPERTY_PARAM = "prop"


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
    # Property keys to pick from (the Properties panel): a form sets PROPERTY_PARAM.
    choices: tuple[str, ...] = ()
    chosen: str = ""


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
    Panel("languages", "Language", (Tab("Languages", "visit:language"),)),
    Panel("screens", "Screen size", (Tab("Screen sizes", "visit:screen"),)),
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


def properties_panel(keys: list[str], chosen: str = "") -> Panel | None:
    """Custom events broken down by one property key: `chosen` (a valid key from the
    URL, kept even when this period has none of it), else the most common of `keys`."""
    if not keys and not chosen:
        return None
    key = chosen or keys[0]
    choices = tuple(keys) if key in keys else (key, *keys)
    # Events without the key (page views, mostly) are not what the panel is about.
    tab = Tab(key, f"event:props:{key}", "visitors,events", skip="(none)")
    return Panel("properties", "Properties", (tab,), choices=choices, chosen=key)


def goals_panel(goals: Sequence[SavedGoal]) -> Panel:
    """The site's saved goals: completions, conversion rate and, with revenue goals, revenue."""
    metrics = "visitors,events,conversion_rate"
    if any(g.revenue_prop for g in goals):
        metrics += ",total_revenue,average_revenue"
    tabs = (Tab("Goals", "event:goal", metrics),)
    return Panel("goals", "Goal conversions", tabs, wide=True)  # up to six columns
