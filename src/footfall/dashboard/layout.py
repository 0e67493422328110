"""Which panels a site's dashboard shows for a view, and its comparison period.

Most panels are fixed (`panels.PANELS`); some depend on the site's data:
the Goals panel on its saved goals, the Properties panel on the custom
property keys its events carry in the period, the properties of one event
on an `event:name` filter. The comparison period's dates are worked out here,
in the site's time zone as the stats API does, so the breakdown panels can
ask the API for the same rows over the period before.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from footfall.dashboard.panels import (
    PANELS,
    PROPERTY_PARAM,
    Panel,
    goals_panel,
    properties_panel,
    props_panel,
)
from footfall.dashboard.sites import SiteDirectory
from footfall.dashboard.view import View
from footfall.stats.errors import StatsError
from footfall.stats.model import Query, build_query
from footfall.stats.properties import PROP_KEY

__all__ = ["MAX_EVENT_KEYS", "Layout", "site_layout"]

MAX_EVENT_KEYS = 12  # tabs of the one-event properties panel


@dataclass(frozen=True)
class Layout:
    view: View  # the view, with the Properties panel's key kept in its links
    panels: list[Panel]
    previous: str = ""  # "YYYY-MM-DD,YYYY-MM-DD": the comparison period, when comparing


def _query(sites: SiteDirectory, site: str, view: View) -> Query | None:
    info = sites.get(site)
    try:
        return build_query(
            site, tz=info.timezone if info else "UTC", period=view.period, date=view.date or None
        )
    except StatsError:  # a time zone the stats refuse: the panels will say so themselves
        return None


def site_layout(sites: SiteDirectory, site: str, view: View, chosen: str = "") -> Layout:
    """The panels of `site` for `view`; `chosen` is the URL's property key (if any)."""
    panels = list(PANELS)
    q = _query(sites, site, view)
    chosen = chosen if PROP_KEY.match(chosen) else ""
    if chosen:
        view = replace(view, extra=(*view.extra, (PROPERTY_PARAM, chosen)))
    if q is not None:
        start, end = q.utc_range()
        properties = properties_panel(sites.prop_keys(site, start, end), chosen)
        if properties:
            panels.append(properties)
        event_name = view.filter_value("event:name")
        if event_name:
            keys = sites.prop_keys(site, start, end, event=event_name, limit=MAX_EVENT_KEYS)
            extra = props_panel(event_name, keys)
            if extra:
                panels.append(extra)
    goals = sites.goals(site)
    if goals:
        panels.append(goals_panel(goals))
    previous = ""
    if view.compare and q is not None:
        before = q.previous()
        previous = f"{before.first},{before.last}"
    return Layout(view, panels, previous)
