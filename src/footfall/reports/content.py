"""What a site's email report says: its period, totals with change, top lists, chart.

Every number comes from the stats engine functions the HTTP stats API calls
(`aggregate`, `breakdown`, `timeseries`, and `stats.api.changes` for the
change against the period before), with the query built the way the API
builds it (`make_query`: the site's time zone), so a report and the API
answer the same for the same days. A report covers the last complete local
week (Monday to Sunday) or calendar month of the site; a monthly report is
compared with the calendar month before it, a weekly one with the week before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from footfall.stats import make_query
from footfall.stats.api import changes
from footfall.stats.engine import aggregate, breakdown, timeseries
from footfall.stats.model import Query, zone
from footfall.stats.sites import site_info
from footfall.stores.meta import open_meta
from footfall.stores.meta_reports import check_period

__all__ = [
    "METRICS",
    "TOP_ROWS",
    "Period",
    "Report",
    "build_report",
    "last_complete",
    "period_starting",
]

METRICS = ("visitors", "visits", "pageviews", "bounce_rate", "visit_duration")
TOP_ROWS = 10  # rows of each top list


@dataclass(frozen=True)
class Period:
    """The local days a report covers, and the days it is compared with."""

    kind: str  # "week" or "month"
    first: date
    last: date
    previous_first: date
    previous_last: date

    @property
    def custom(self) -> str:
        """The `date` parameter of the stats API's `period=custom` for these days."""
        return f"{self.first.isoformat()},{self.last.isoformat()}"

    @property
    def previous_custom(self) -> str:
        return f"{self.previous_first.isoformat()},{self.previous_last.isoformat()}"

    def ends_at(self, tz: str) -> datetime:
        """The instant (UTC) the period ends: local midnight after its last day."""
        local = datetime.combine(self.last + timedelta(days=1), datetime.min.time(), zone(tz))
        return local.astimezone(timezone.utc)


def _month_start(d: date) -> date:
    return d.replace(day=1)


def period_starting(kind: str, first: date) -> Period:
    """The week starting on Monday `first`, or the month starting on its 1st."""
    check_period(kind)
    if kind == "week":
        monday = first - timedelta(days=first.weekday())
        return Period(
            "week",
            monday,
            monday + timedelta(days=6),
            monday - timedelta(days=7),
            monday - timedelta(days=1),
        )
    start = _month_start(first)
    following = _month_start(start + timedelta(days=31))
    before = _month_start(start - timedelta(days=1))
    return Period("month", start, following - timedelta(days=1), before, start - timedelta(days=1))


def last_complete(kind: str, tz: str, now: datetime | None = None) -> Period:
    """The last week (Monday to Sunday) or month that has ended in time zone `tz`."""
    today = (now or datetime.now(timezone.utc)).astimezone(zone(tz)).date()
    if kind == "week":
        return period_starting("week", today - timedelta(days=today.weekday() + 7))
    return period_starting(
        check_period(kind), _month_start(_month_start(today) - timedelta(days=1))
    )


@dataclass(frozen=True)
class Report:
    """The numbers of one site's report, ready for the templates."""

    site: str
    tz: str
    period: Period
    totals: dict[str, Any]  # METRICS -> value
    change: dict[str, Any]  # METRICS -> change (percent, points for bounce_rate, or None)
    pages: list[dict[str, Any]]  # breakdown rows of event:page
    sources: list[dict[str, Any]]  # breakdown rows of visit:source
    goals: list[dict[str, Any]]  # breakdown rows of event:goal
    saved_goals: int  # goals the site has saved (none: the section says how to add one)
    chart: list[dict[str, Any]]  # timeseries rows: {"date": ..., "visitors": n}


def _query(store: Any, site: str, tz: str, days: str, **params: Any) -> Query:
    return make_query(store, site, tz=tz, period="custom", date=days, **params)


def build_report(store: Any, site: str, period: Period) -> Report:
    """Ask the stats engine for everything a report of `site` over `period` shows."""
    tz = site_info(store, site).timezone
    q = _query(store, site, tz, period.custom, metrics=",".join(METRICS))
    totals = aggregate(store, q)
    before = _query(store, site, tz, period.previous_custom, metrics=",".join(METRICS))
    top = {"metrics": "visitors", "limit": TOP_ROWS}
    return Report(
        site=site,
        tz=tz,
        period=period,
        totals=totals,
        change=changes(store, q, totals, previous=before),
        pages=breakdown(
            store, _query(store, site, tz, period.custom, property="event:page", **top)
        ),
        sources=breakdown(
            store, _query(store, site, tz, period.custom, property="visit:source", **top)
        ),
        goals=breakdown(
            store,
            _query(
                store,
                site,
                tz,
                period.custom,
                property="event:goal",
                metrics="visitors,events",
                limit=TOP_ROWS,
            ),
        ),
        saved_goals=len(open_meta(store).list_goals(site)),
        chart=timeseries(
            store, _query(store, site, tz, period.custom, metrics="visitors", interval="date")
        ),
    )
