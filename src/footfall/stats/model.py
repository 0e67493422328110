"""The query model: one validated description of "which numbers, for what".

`build_query` turns loose parameters (the HTTP API's strings, the CLI's
options, Python keyword arguments) into a frozen `Query`, raising
`StatsError(param, ...)` for anything not allowed. Everything downstream (SQL
compilation, summaries, formatting) trusts a `Query`.

Periods follow Plausible: they are whole days in the site's time zone,
ending on `date` (default: today there).

Goals: `build_query` takes the site's saved goals (`footfall goals add`) and
resolves the names of an `event:goal` filter against them; a name the site
has not saved keeps its ad-hoc meaning (`Visit /path` or an event name).
`property=event:goal` breaks down by the saved goals themselves.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from footfall.stats.errors import StatsError
from footfall.stats.filters import Condition, Goal, adhoc_goal, parse_filters
from footfall.stats.properties import GOAL_PROPERTY, Property, lookup
from footfall.stats.wildcard import parse_wildcard
from footfall.stores.meta_records import SavedGoal

__all__ = [
    "EVENT_METRICS",
    "GOAL_BREAKDOWN_METRICS",
    "INTERVALS",
    "METRICS",
    "PERIODS",
    "REQUEST_METRICS",
    "REVENUE_METRICS",
    "VISIT_METRICS",
    "Query",
    "build_query",
    "goal_of",
    "resolve_period",
    "zone",
]

PERIODS = ("day", "7d", "30d", "month", "6mo", "12mo", "year", "all", "custom")
INTERVALS = ("hour", "date", "week", "month")
EVENT_METRICS = ("visitors", "pageviews", "events")
VISIT_METRICS = ("visits", "views_per_visit", "bounce_rate", "visit_duration")
REQUEST_METRICS = ("requests", "bytes", "duration_p50", "duration_p95", "error_rate")
REVENUE_METRICS = ("total_revenue", "average_revenue")
METRICS = (
    *EVENT_METRICS,
    *VISIT_METRICS,
    "conversion_rate",
    *REVENUE_METRICS,
    *REQUEST_METRICS,
)
# What a breakdown by goal answers (Plausible's v1 list, with revenue).
GOAL_BREAKDOWN_METRICS = ("visitors", "events", "conversion_rate", *REVENUE_METRICS)
MAX_METRICS = 16
MAX_LIMIT = 1000
MIN_DATE = date(2000, 1, 1)
MAX_DATE = date(2100, 12, 31)


@dataclass(frozen=True)
class Query:
    """A validated stats query: site, local date range, metrics, filters, property."""

    site: str
    tz: str
    first: date  # first local day, inclusive
    last: date  # last local day, inclusive
    metrics: tuple[str, ...] = ("visitors",)
    filters: tuple[Condition, ...] = ()
    goals: tuple[Goal, ...] = ()  # the `event:goal` filter: any of these (none: no filter)
    site_goals: tuple[Goal, ...] = ()  # the site's saved goals (`property=event:goal` rows)
    prop: Property | None = None
    interval: str = "date"
    limit: int = 100
    page: int = 1
    period: str = "30d"
    include_bots: bool = False
    engine: str = "auto"  # "auto" (summaries when they can answer), "raw" or "summary"
    event_scope: bool = False  # count event metrics over events even for visit-only queries
    visits_table: str = ""  # a maintained visits table to read instead of grouping events
    with_imported: bool = False  # add imported aggregates (footfall.stats.imported)

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.tz)

    def utc_range(self) -> tuple[datetime, datetime]:
        """[start, end) in UTC for the local days first..last."""
        tz = self.zone
        start = datetime.combine(self.first, datetime.min.time(), tz)
        end = datetime.combine(self.last + timedelta(days=1), datetime.min.time(), tz)
        return start.astimezone(timezone.utc), end.astimezone(timezone.utc)

    def previous(self) -> Query:
        """The same query over the period just before (for `compare=previous_period`)."""
        days = (self.last - self.first).days + 1
        return replace(
            self, first=self.first - timedelta(days=days), last=self.first - timedelta(days=1)
        )

    def without_goal(self) -> Query:
        """The denominator of conversion_rate: same query, no goal, visitors over events."""
        prop = None if self.by_goal else self.prop
        return replace(self, goals=(), prop=prop, event_scope=True)

    @property
    def by_goal(self) -> bool:
        """A breakdown by goal (`property=event:goal`)."""
        return self.prop is not None and self.prop.name == GOAL_PROPERTY.name

    @property
    def listed_goals(self) -> tuple[Goal, ...]:
        """The rows of a breakdown by goal: the saved goals (those an `event:goal`
        filter names, when there is one)."""
        named = {g.name for g in self.goals}
        return tuple(g for g in self.site_goals if not named or g.name in named)

    @property
    def currency(self) -> str:
        """The currency of the revenue of the goals filtered by ("" without revenue goals)."""
        found = {g.currency for g in self.goals if g.revenue_prop}
        return found.pop() if len(found) == 1 else ""

    def identifying(self) -> list[tuple[str, str]]:
        """(parameter, property) pairs of the properties that name a person.

        A public site's anonymous readers may not use them (`stats.api`), so
        that a breakdown or a filter cannot list or probe who visited.
        """
        found = [("filters", c.prop.name) for c in self.filters if c.prop.identifies]
        if self.prop is not None and self.prop.identifies:
            found.insert(0, ("property", self.prop.name))
        return found

    @property
    def visit_filters(self) -> tuple[Condition, ...]:
        return tuple(c for c in self.filters if c.prop.is_visit)

    @property
    def event_filters(self) -> tuple[Condition, ...]:
        return tuple(c for c in self.filters if not c.prop.is_visit)


def bucket_label(local: datetime | date, interval: str) -> str:
    """A time series bucket's label, as the raw SQL spells it: the local hour
    ("2026-10-01 13:00:00"), or the day, its week's Monday or its month's 1st."""
    if interval == "hour":
        return local.strftime("%Y-%m-%d %H:00:00")
    d = local.date() if isinstance(local, datetime) else local
    if interval == "week":
        d -= timedelta(days=d.weekday())
    elif interval == "month":
        d = d.replace(day=1)
    return d.isoformat()


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise StatsError("timezone", f"unknown time zone {name[:60]!r}") from exc


def _parse_date(text: str, param: str = "date") -> date:
    try:
        value = date.fromisoformat(text.strip())
    except ValueError:
        raise StatsError(param, f"{text[:40]!r} is not a date (YYYY-MM-DD)") from None
    if not MIN_DATE <= value <= MAX_DATE:
        raise StatsError(param, f"{value} is outside {MIN_DATE}..{MAX_DATE}")
    return value


def _months_back(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _month_end(d: date) -> date:
    return date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])


def resolve_period(
    period: str, date_param: str | None, today: date, first_seen: date | None = None
) -> tuple[date, date]:
    """The inclusive local days a Plausible period covers."""
    if period not in PERIODS:
        raise StatsError(
            "period", f"unknown period {period[:20]!r}; use one of {', '.join(PERIODS)}"
        )
    if period == "custom":
        if not date_param or "," not in date_param:
            raise StatsError("date", "period=custom needs date=YYYY-MM-DD,YYYY-MM-DD")
        a, b = date_param.split(",", 1)
        first, last = _parse_date(a), _parse_date(b)
        if last < first:
            raise StatsError("date", "the end date is before the start date")
        return first, last
    anchor = _parse_date(date_param) if date_param else today
    if period == "day":
        return anchor, anchor
    if period in ("7d", "30d"):
        return anchor - timedelta(days=int(period[:-1]) - 1), anchor
    if period == "month":
        return anchor.replace(day=1), _month_end(anchor)
    if period in ("6mo", "12mo"):
        return _months_back(anchor, int(period[:-2]) - 1), _month_end(anchor)
    if period == "year":
        return date(anchor.year, 1, 1), date(anchor.year, 12, 31)
    return (first_seen or anchor), anchor  # all


def _split_list(text: str | None) -> list[str]:
    return [m.strip() for m in (text or "").split(",") if m.strip()]


def build_query(
    site: str,
    *,
    tz: str = "UTC",
    period: str = "30d",
    date: str | None = None,
    metrics: str | list[str] | tuple[str, ...] | None = None,
    filters: str | None = None,
    property: str | None = None,
    interval: str | None = None,
    limit: int | str | None = None,
    page: int | str | None = None,
    today: datetime | None = None,
    first_seen: datetime | None = None,
    include_bots: bool = False,
    engine: str = "auto",
    goals: Sequence[SavedGoal] = (),
    with_imported: bool = False,
) -> Query:
    """Validate loose parameters into a `Query` (raising `StatsError` naming the parameter)."""
    if not site or len(site) > 500:
        raise StatsError("site_id", "site_id is required")
    zinfo = zone(tz)
    now_local = (today or datetime.now(timezone.utc)).astimezone(zinfo)
    seen = first_seen.astimezone(zinfo).date() if first_seen else None
    first, last = resolve_period(period or "30d", date, now_local.date(), seen)
    names = _split_list(metrics) if isinstance(metrics, str) else list(metrics or ["visitors"])
    if not names:
        raise StatsError("metrics", "no metric given")
    if len(names) > MAX_METRICS:
        raise StatsError("metrics", f"more than {MAX_METRICS} metrics")
    for name in names:
        if name not in METRICS:
            raise StatsError(
                "metrics", f"unknown metric {name[:40]!r}; use one of {', '.join(METRICS)}"
            )
    if len(set(names)) != len(names):
        raise StatsError("metrics", "a metric is listed twice")
    conditions, goal_names = parse_filters(filters)
    saved = tuple(goal_of(g) for g in goals)
    by_name = {g.name: g for g in saved}
    chosen = tuple(by_name.get(n) or adhoc_goal(n) for n in goal_names)
    by_goal = bool(property) and (property or "").strip() == GOAL_PROPERTY.name
    prop = GOAL_PROPERTY if by_goal else lookup(property) if property else None
    _check_goal_metrics(names, chosen, by_goal)
    interval = interval or ("hour" if period == "day" else "date")
    if interval not in INTERVALS:
        raise StatsError(
            "interval", f"unknown interval {interval[:20]!r}; use one of {', '.join(INTERVALS)}"
        )
    if interval == "hour" and (last - first).days > 31:
        raise StatsError("interval", "interval=hour covers at most 31 days")
    return Query(
        site=site,
        tz=zinfo.key,
        first=first,
        last=last,
        metrics=tuple(names),
        filters=conditions,
        goals=chosen,
        site_goals=saved,
        prop=prop,
        interval=interval,
        limit=_bounded_int(limit, "limit", 100, 1, MAX_LIMIT),
        page=_bounded_int(page, "page", 1, 1, 1_000_000),
        period=period or "30d",
        include_bots=include_bots,
        engine=engine if engine in ("auto", "raw", "summary") else "auto",
        with_imported=with_imported,
    )


def goal_of(saved: SavedGoal) -> Goal:
    """A saved goal as the stats engine matches it."""
    if saved.page and "*" in saved.page:
        parse_wildcard(saved.page)  # refuses too many wildcards
    return Goal(
        event=saved.event,
        page=saved.page,
        prop_key=saved.prop_key,
        prop_value=saved.prop_value,
        name=saved.name,
        revenue_prop=saved.revenue_prop,
        currency=saved.currency,
    )


def _check_goal_metrics(names: list[str], goals: tuple[Goal, ...], by_goal: bool) -> None:
    """Conversion and revenue metrics need goals; a goal breakdown takes only those."""
    needs_goal = [m for m in names if m in ("conversion_rate", *REVENUE_METRICS)]
    if needs_goal and not goals and not by_goal:
        raise StatsError(
            "metrics",
            f"{needs_goal[0]} needs a goal filter (filters=event:goal==NAME) "
            "or a goal breakdown (property=event:goal)",
        )
    if by_goal:
        other = [m for m in names if m not in GOAL_BREAKDOWN_METRICS]
        if other:
            raise StatsError(
                "metrics",
                f"property=event:goal takes {', '.join(GOAL_BREAKDOWN_METRICS)}; not {other[0]}",
            )
    currencies = {g.currency for g in goals if g.revenue_prop}
    if len(currencies) > 1 and any(m in REVENUE_METRICS for m in names):
        raise StatsError("filters", "revenue of goals in different currencies cannot be added up")


def _bounded_int(value: int | str | None, param: str, default: int, lo: int, hi: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise StatsError(param, f"{str(value)[:20]!r} is not a whole number") from None
    if not lo <= number <= hi:
        raise StatsError(param, f"must be between {lo} and {hi}")
    return number
