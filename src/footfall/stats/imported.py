# ruff: noqa: S608 - SQL from allow-listed column names (footfall.importers' kinds); values bound
"""Imported aggregates in the stats: added to footfall's own figures, as Plausible does.

Data imported from Plausible's export or Google Analytics 4 are daily
figures by one dimension (`imported_stats`, see
`footfall.importers.aggregates`). A query with `with_imported` adds them to
what footfall counted, day by day:

- visitors, page views, events, visits, bounces and visit duration add up
  (a visitor counted by footfall and by the import on the same day is two,
  as in Plausible: the two never saw the same people);
- the query's properties (filters and breakdown) must all be answered by one
  kind of imported row: none (totals: the `visitors` kind), the sources
  (visit:source, visit:referrer, visit:utm_*), the pages (event:page,
  event:hostname), entry pages, exit pages, locations (visit:country, region,
  city), devices, browsers (and versions), operating systems (and versions),
  or custom events (event:name). A query that mixes them, names another
  property (event:props:*, visit:user_id, event:status...) or a goal filter
  cannot be answered by the imports: it gets footfall's own figures only, and
  `why_excluded` says so, which the API reports (`warning`, `meta`);
- a breakdown by goal without other filters adds, as Plausible does, the
  imported custom events of an event goal's name (visitors, events) and the
  imported pages a page goal matches (visitors, page views as its events);
  a goal with a property match or revenue has no imported counterpart and
  keeps footfall's own figures, and `why_excluded` names that too;
- the page rows add visitors and page views, not visits (an export's visits
  per page count a visit once per page it saw).

The filters compile with the stats' own `cond_sql` over the imported rows,
whose columns carry the properties' names, so wildcards, `contains` and
negations mean what they mean for events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from footfall.stats.dialect import Dialect, Params
from footfall.stats.filters import Goal
from footfall.stats.model import Query, bucket_label
from footfall.stats.sql import cond_sql, one_goal_sql, prop_expr

__all__ = [
    "KIND_OF",
    "SOME_GOALS",
    "SOME_GOALS_WARNING",
    "ImportRange",
    "add_imported",
    "imported_goal_parts",
    "imported_kind",
    "imported_parts",
    "imported_ranges",
    "takes_imports",
    "why_excluded",
]

# The properties each kind of imported row answers.
KIND_OF: dict[str, str] = {
    "event:page": "pages",
    "event:hostname": "pages",
    "visit:entry_page": "entry_pages",
    "visit:exit_page": "exit_pages",
    "visit:source": "sources",
    "visit:referrer": "sources",
    "visit:utm_source": "sources",
    "visit:utm_medium": "sources",
    "visit:utm_campaign": "sources",
    "visit:utm_content": "sources",
    "visit:utm_term": "sources",
    "visit:country": "locations",
    "visit:region": "locations",
    "visit:city": "locations",
    "visit:device": "devices",
    "visit:browser": "browsers",
    "visit:browser_version": "browsers",
    "visit:os": "operating_systems",
    "visit:os_version": "operating_systems",
    "event:name": "custom_events",
}
# The columns each kind's rows fill (what its filters and breakdowns read).
_COLUMNS: dict[str, tuple[str, ...]] = {
    "visitors": (),
    "pages": ("path", "host"),
    "entry_pages": ("entry_page",),
    "exit_pages": ("exit_page",),
    "sources": (
        "source",
        "referrer",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_content",
        "utm_term",
    ),
    "locations": ("country", "region", "city"),
    "devices": ("device",),
    "browsers": ("browser", "browser_version"),
    "operating_systems": ("os", "os_version"),
    "custom_events": ("name",),
}
_FIGURES = ("visitors", "pageviews", "events", "visits", "bounces", "visit_duration")
UNSUPPORTED = "unsupported_query"
# Some goals of a breakdown by goal include imported data, those with a
# property match or revenue do not.
SOME_GOALS = "goal_with_property_or_revenue"
WARNING = (
    "Imported stats are not included in the results: the query's filters, breakdown or"
    " goal cannot be answered by imported data (see docs/import-export.md)."
)
SOME_GOALS_WARNING = (
    "Imported stats are not included in the goals with a property match or revenue:"
    " imported data have neither (see docs/goals.md)."
)


def imported_kind(q: Query) -> str | None:
    """The kind of imported rows that answers `q`, or None when none can."""
    if q.goals:
        return None
    names = {c.prop.name for c in q.filters}
    if q.prop is not None:
        names.add(q.prop.name)
    if not names:
        return "visitors"
    kinds = {KIND_OF.get(n) for n in names}
    if len(kinds) != 1 or None in kinds:
        return None
    return kinds.pop()


def takes_imports(goal: Goal) -> bool:
    """Whether imported rows count towards `goal` (they carry no properties or revenue)."""
    return not goal.prop_key and not goal.revenue_prop


def why_excluded(q: Query) -> str:
    """ "" when `q` includes imported data (or did not ask for it), else the reason
    (`SOME_GOALS`: a breakdown by goal includes them in some of its goals only)."""
    if not q.with_imported:
        return ""
    if q.by_goal:
        goals = q.listed_goals
        taking = [g for g in goals if takes_imports(g)]
        if q.filters or (goals and not taking):
            return UNSUPPORTED
        return SOME_GOALS if len(taking) < len(goals) else ""
    return "" if imported_kind(q) is not None else UNSUPPORTED


def imported_goal_parts(
    store: Any, d: Dialect, q: Query, goals: tuple[Goal, ...]
) -> list[dict[str, int]] | None:
    """The imported visitors and events of each of `goals` (a breakdown by goal), in
    order, or None where the query cannot include them. An event goal reads the
    custom events of its name, a page goal the pages it matches (their page views
    are its events); a goal with a property match or revenue gets nothing."""
    if not q.with_imported or why_excluded(q) == UNSUPPORTED:
        return None
    p = Params(d)
    cols: list[str] = []
    for g in goals:  # positional placeholders: bound in text order
        if not takes_imports(g):
            cols += ["0", "0"]
            continue
        for figure in ("visitors", "events"):
            kind = p.add("pages" if g.page else "custom_events")
            done = one_goal_sql(g, d, p, "v")
            cols.append(f"SUM(CASE WHEN v.kind = {kind} AND {done} THEN v.n_{figure} ELSE 0 END)")
    if not cols:
        return []
    once = (  # each row key once a day (ClickHouse may hold a replaced import twice)
        "SELECT kind, name AS row_name, path, MAX(visitors) AS n_visitors,"
        " MAX(events) AS n_events"
        f" FROM imported_stats WHERE site = {p.add(q.site)}"
        f" AND kind IN ({p.add('pages')}, {p.add('custom_events')})"
        f" AND day >= {p.add(q.first.isoformat())} AND day <= {p.add(q.last.isoformat())}"
        " GROUP BY import_id, row_key, day, kind, name, path"
    )
    # A page row reads as page views, which is what a page goal's condition asks.
    inner = (
        "SELECT kind, CASE WHEN kind = 'pages' THEN 'pageview' ELSE row_name END AS name,"
        f" path, n_visitors, n_events FROM ({once}) w"
    )
    row = next(iter(store.query(f"SELECT {', '.join(cols)} FROM ({inner}) v", p.values)))
    return [
        {"visitors": int(row[2 * i] or 0), "events": int(row[2 * i + 1] or 0)}
        for i in range(len(goals))
    ]


def imported_parts(
    store: Any, d: Dialect, q: Query, group: str
) -> dict[str, dict[str, float]] | None:
    """The imported figures of `q` as the engine's parts per group, or None where the
    query cannot include them."""
    kind = imported_kind(q) if q.with_imported else None
    if kind is None:
        return None
    p = Params(d)
    g = "''" if group != "prop" or q.prop is None else prop_expr(q.prop, d, p, "v")
    cols = _COLUMNS[kind]
    dims = "".join(f", {c}" for c in cols)
    inner = (
        f"SELECT day{dims}, "
        + ", ".join(f"MAX({f}) AS n_{f}" for f in _FIGURES)
        + f" FROM imported_stats WHERE site = {p.add(q.site)} AND kind = {p.add(kind)}"
        f" AND day >= {p.add(q.first.isoformat())} AND day <= {p.add(q.last.isoformat())}"
        f" GROUP BY import_id, row_key, day{dims}"
    )
    where = [cond_sql(c, d, p, "v") for c in q.filters] or ["1 = 1"]
    sql = (
        f"SELECT v.day, {g} AS g, "
        + ", ".join(f"SUM(v.n_{f})" for f in _FIGURES)
        + f" FROM ({inner}) v WHERE {' AND '.join(where)} GROUP BY v.day, g"
    )
    out: dict[str, dict[str, float]] = {}
    for row in store.query(sql, p.values):
        day = date.fromisoformat(str(row[0]))
        if group == "total":
            key = ""
        elif group == "bucket":
            hour = q.interval == "hour"  # a day's figures go to its first hour
            key = f"{day.isoformat()} 00:00:00" if hour else bucket_label(day, q.interval)
        else:
            key = "" if row[1] is None else str(row[1])
        sums = out.setdefault(key, dict.fromkeys(_FIGURES, 0))
        for name, value in zip(_FIGURES, row[2:], strict=True):
            sums[name] += int(value or 0)
    return out


def add_imported(
    got: dict[str, dict[str, Any]], imported: dict[str, dict[str, float]] | None
) -> dict[str, dict[str, Any]]:
    """`got` (the engine's parts per group) with the imported figures added."""
    if not imported:
        return got
    for key, sums in imported.items():
        p = got.setdefault(key, {})
        for names, value in (
            (("visitors", "v_visitors"), sums["visitors"]),
            (("pageviews", "v_pageviews"), sums["pageviews"]),
            (("events", "v_events"), sums["events"]),
            (("visits",), sums["visits"]),
            (("bounces",), sums["bounces"]),
            (("duration",), sums["visit_duration"] * 1_000_000),
        ):
            for name in names:
                p[name] = (p.get(name) or 0) + value
    return got


@dataclass(frozen=True)
class ImportRange:
    """One import of a site: where from and the days it covers."""

    source: str  # "plausible" or "ga4"
    first: date
    last: date
    label: str
    import_id: str = ""


def imported_ranges(store: Any, site: str) -> list[ImportRange]:
    """The imports of `site`, oldest first (what the dashboard names)."""
    d = store.stats_dialect()
    p = Params(d)
    sql = (
        "SELECT source, MIN(first_day), MAX(last_day), MAX(label), import_id FROM imported_imports"
        f" WHERE site = {p.add(site)} AND first_day <> '' GROUP BY import_id, source"
    )
    try:
        rows = store.query(sql, p.values)
    except NotImplementedError:
        return []
    day = date.fromisoformat
    found = [
        ImportRange(str(r[0]), day(str(r[1])), day(str(r[2])), str(r[3]), str(r[4])) for r in rows
    ]
    return sorted(found, key=lambda r: (r.first, r.last, r.source))
