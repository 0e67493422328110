"""Stats engine: the numbers a site owner asks for, from raw events or summaries.

    import footfall
    from footfall import stats

    store = footfall.connect("sqlite:///footfall.db")
    stats.query(store, "example.com", metrics="visitors,pageviews,bounce_rate")
    stats.query(store, "example.com", kind="timeseries", period="7d")
    stats.query(store, "example.com", kind="breakdown", property="visit:source")

The same engine answers the HTTP API (`footfall.stats.api`) and the CLI, so
all three give the same numbers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from footfall.stats.engine import aggregate, breakdown, timeseries
from footfall.stats.errors import StatsError, StatsUnavailable
from footfall.stats.funnel import funnel
from footfall.stats.model import METRICS, PERIODS, Query, build_query
from footfall.stats.realtime import current_pages, realtime_visitors
from footfall.stats.sites import first_seen, needs_goals, site_goals, site_info
from footfall.stores import connect

__all__ = [
    "METRICS",
    "PERIODS",
    "Query",
    "StatsError",
    "StatsUnavailable",
    "aggregate",
    "breakdown",
    "build_query",
    "current_pages",
    "funnel",
    "make_query",
    "query",
    "realtime_visitors",
    "timeseries",
]

KINDS = ("aggregate", "timeseries", "breakdown")


def make_query(store: Any, site: str, **params: Any) -> Query:
    """`build_query` with the site's time zone, first event and saved goals filled in
    from the store (`goals=` gives the goals instead)."""
    tz = params.pop("tz", None) or site_info(store, site).timezone
    if params.get("period") == "all" and "first_seen" not in params:
        params["first_seen"] = first_seen(store, site)
    if "goals" not in params and needs_goals(params.get("filters"), params.get("property")):
        params["goals"] = site_goals(store, site)
    return build_query(site, tz=tz, **params)


def query(
    store: Any,
    site: str,
    *,
    kind: str = "aggregate",
    now: datetime | None = None,
    **params: Any,
) -> Any:
    """One stats answer in Python: a dict (aggregate) or a list of rows.

    Keyword parameters are the HTTP API's: period, date, metrics, filters,
    property, interval, limit, page; plus tz (default: the site's), goals
    (default: the site's saved goals) and engine ("auto", "raw" or "summary").
    """
    if isinstance(store, str):
        store = connect(store)
    if kind not in KINDS:
        raise StatsError("kind", f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    q = make_query(store, site, today=now, **params)
    if kind == "aggregate":
        return aggregate(store, q)
    if kind == "timeseries":
        return timeseries(store, q)
    return breakdown(store, q)
