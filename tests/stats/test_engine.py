"""Every answer of the engine (raw SQL and summaries) against the plain-Python reference."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from footfall import stats
from footfall.stats.engine import parts
from footfall.stats.model import build_query

from .dataset import DAYS, EMPTY_DAYS, START, TZ, TZ_SITE, UTC_SITE, Ref

FIRST, LAST = START, START + timedelta(days=DAYS - 1)
CUSTOM = f"{FIRST},{LAST}"
SITES = [(UTC_SITE, "UTC"), (TZ_SITE, TZ)]
ALL_METRICS = "visitors,visits,pageviews,events,views_per_visit,bounce_rate,visit_duration"
REQUEST_METRICS = "requests,bytes,duration_p50,duration_p95,error_rate"

FILTERS = [
    "",
    "visit:country==DE",
    "visit:device==mobile",
    "visit:source==Google",
    "visit:source==Direct / None",
    "visit:browser==Chrome|Firefox",
    "visit:country!=US",
    "visit:entry_page==/pricing",
    "visit:exit_page==/blog/**",
    "visit:utm_campaign==launch",
    "visit:user_id==user1",
    "visit:city~Franc",
    "event:page==/blog/**",
    "event:page==/blog/*",
    "event:page!=/",
    "event:name==Signup",
    "event:props:plan==pro",
    "event:hostname~.test",
    "visit:country!=US;event:page~blog",
    "visit:country==DE;visit:device==desktop",
]


def parse(filters: str) -> list[tuple[str, str, list[str]]]:
    out = []
    for part in filter(None, filters.split(";")):
        for op in ("!=", "==", "!~", "~"):
            if op in part:
                name, value = part.split(op, 1)
                values = value.split("|")
                if name == "visit:source":
                    values = ["" if v == "Direct / None" else v for v in values]
                out.append((name, op, values))
                break
    return out


def ref_for(events: list[Any], site: str, tz: str, first: date = FIRST, last: date = LAST) -> Ref:
    return Ref(events, site, tz, first, last)


@pytest.mark.parametrize("engine", ["raw", "auto"])
@pytest.mark.parametrize("filters", FILTERS)
@pytest.mark.parametrize(("site", "tz"), SITES)
def test_aggregate(
    store: Any, events: list[Any], site: str, tz: str, filters: str, engine: str
) -> None:
    got = stats.query(
        store,
        site,
        period="custom",
        date=CUSTOM,
        metrics=ALL_METRICS,
        filters=filters,
        engine=engine,
    )
    ref = ref_for(events, site, tz)
    expected = Ref.metrics(
        ref.parts(parse(filters), None, lambda ts: "", None)[""], ALL_METRICS.split(",")
    )
    assert got == expected
    assert got["visitors"] > 0


def test_request_metrics(store: Any, events: list[Any]) -> None:
    got = stats.query(store, UTC_SITE, period="custom", date=CUSTOM, metrics=REQUEST_METRICS)
    ref = ref_for(events, UTC_SITE, "UTC")
    expected = Ref.metrics(ref.parts([], None, lambda ts: "", None)[""], REQUEST_METRICS.split(","))
    assert got == expected
    assert got["requests"] > 10 and 0 < got["error_rate"] < 100


@pytest.mark.parametrize("goal", ["Signup", "Visit /pricing", "Visit /blog/**"])
@pytest.mark.parametrize("extra", ["", "visit:country==DE"])
def test_conversion_rate(store: Any, events: list[Any], goal: str, extra: str) -> None:
    filters = f"event:goal=={goal}" + (f";{extra}" if extra else "")
    got = stats.query(
        store,
        UTC_SITE,
        period="custom",
        date=CUSTOM,
        metrics="visitors,conversion_rate",
        filters=filters,
    )
    ref = ref_for(events, UTC_SITE, "UTC")
    conds = parse(extra)
    converted = ref.parts(conds, goal, lambda ts: "", None)[""]["visitors"]
    total = ref.parts(conds, None, lambda ts: "", None, event_scope=True)[""]["visitors"]
    assert got["visitors"] == converted > 0
    assert got["conversion_rate"] == pytest.approx(round(100 * converted / total, 1), abs=0.051)


def _bucket(interval: str, tz: Any) -> Any:
    def key(ts: datetime) -> str:
        local = ts.astimezone(tz)
        if interval == "hour":
            return local.strftime("%Y-%m-%d %H:00:00")
        d = local.date()
        if interval == "week":
            d -= timedelta(days=d.weekday())
        elif interval == "month":
            d = d.replace(day=1)
        return d.isoformat()

    return key


@pytest.mark.parametrize("engine", ["raw", "auto"])
@pytest.mark.parametrize("filters", ["", "visit:country==DE", "event:page==/pricing"])
@pytest.mark.parametrize("interval", ["date", "week", "month"])
@pytest.mark.parametrize(("site", "tz"), SITES)
def test_timeseries(
    store: Any, events: list[Any], site: str, tz: str, interval: str, filters: str, engine: str
) -> None:
    got = stats.query(
        store,
        site,
        kind="timeseries",
        period="custom",
        date=CUSTOM,
        metrics=ALL_METRICS,
        filters=filters,
        interval=interval,
        engine=engine,
    )
    ref = ref_for(events, site, tz)
    groups = ref.parts(parse(filters), None, _bucket(interval, ref.tz), None)
    for row in got:
        expected = Ref.metrics(groups.get(row["date"], {}), ALL_METRICS.split(","))
        assert {k: v for k, v in row.items() if k != "date"} == expected, row["date"]
    labels = [r["date"] for r in got]
    assert labels == sorted(set(labels))
    if interval == "date":  # every day present, the empty ones as 0
        assert len(got) == DAYS
        for d in EMPTY_DAYS:
            row = next(r for r in got if r["date"] == d.isoformat())
            if site == UTC_SITE:  # in Berlin, late UTC evenings spill into these days
                assert row["visitors"] == 0 and row["pageviews"] == 0


@pytest.mark.parametrize("engine", ["raw", "auto"])
def test_hourly_across_dst(store: Any, events: list[Any], engine: str) -> None:
    """Berlin falls back on 2026-10-25: 25 real hours, 24 labels (02:00 twice, merged)."""
    day = date(2026, 10, 25)
    got = stats.query(
        store,
        TZ_SITE,
        kind="timeseries",
        period="day",
        date=str(day),
        metrics="visitors,pageviews,visits",
        engine=engine,
    )
    assert got[0]["date"] == "2026-10-25 00:00:00" and len(got) == 24
    ref = ref_for(events, TZ_SITE, TZ, day, day)
    groups = ref.parts([], None, _bucket("hour", ref.tz), None)
    for row in got:
        assert {k: v for k, v in row.items() if k != "date"} == Ref.metrics(
            groups.get(row["date"], {}), ["visitors", "pageviews", "visits"]
        )
    assert sum(r["pageviews"] for r in got) > 0


PROPERTIES = [
    "event:page",
    "event:name",
    "event:hostname",
    "event:status",
    "event:props:plan",
    "visit:entry_page",
    "visit:exit_page",
    "visit:source",
    "visit:referrer",
    "visit:utm_medium",
    "visit:utm_source",
    "visit:utm_campaign",
    "visit:utm_content",
    "visit:utm_term",
    "visit:device",
    "visit:browser",
    "visit:browser_version",
    "visit:os",
    "visit:os_version",
    "visit:country",
    "visit:region",
    "visit:city",
    "visit:language",
    "visit:screen",
    "visit:user_id",
]


def _compare_breakdown(
    got: list[dict[str, Any]], groups: dict[str, Any], prop: str, metrics: list[str]
) -> None:
    key = prop.split(":")[-1]
    empty = "Direct / None" if prop in ("visit:source", "visit:referrer") else "(none)"
    expected = {}
    for value, o in groups.items():
        m = Ref.metrics(o, metrics)
        if any(m.values()):
            expected[str(value) or empty] = m
    actual = {r[key]: {m: r[m] for m in metrics} for r in got if any(r[m] for m in metrics)}
    assert actual == expected
    firsts = [r[metrics[0]] for r in got]
    assert firsts == sorted(firsts, reverse=True)


@pytest.mark.parametrize("engine", ["raw", "auto"])
@pytest.mark.parametrize("prop", PROPERTIES)
@pytest.mark.parametrize(("site", "tz"), SITES)
def test_breakdown(
    store: Any, events: list[Any], site: str, tz: str, prop: str, engine: str
) -> None:
    metrics = "visitors,visits,pageviews,events,bounce_rate,visit_duration"
    got = stats.query(
        store,
        site,
        kind="breakdown",
        period="custom",
        date=CUSTOM,
        property=prop,
        metrics=metrics,
        limit=1000,
        engine=engine,
    )
    ref = ref_for(events, site, tz)
    _compare_breakdown(got, ref.parts([], None, lambda ts: "", prop), prop, metrics.split(","))
    assert got


@pytest.mark.parametrize("engine", ["raw", "auto"])
@pytest.mark.parametrize(
    ("filters", "prop"),
    [
        ("visit:country==DE", "event:page"),
        ("visit:country==FR", "visit:source"),
        ("visit:device==mobile", "visit:browser"),
        ("visit:device==desktop", "visit:entry_page"),
        ("event:page==/pricing", "visit:country"),
        ("visit:browser==Safari", "event:page"),
        ("event:name==Signup", "event:props:plan"),
    ],
)
def test_filtered_breakdown(
    store: Any, events: list[Any], filters: str, prop: str, engine: str
) -> None:
    metrics = (
        "visitors,pageviews,visits"
        if prop.startswith("visit:") or "event:" in filters
        else "visitors,pageviews"
    )
    got = stats.query(
        store,
        TZ_SITE,
        kind="breakdown",
        period="custom",
        date=CUSTOM,
        property=prop,
        metrics=metrics,
        filters=filters,
        limit=1000,
        engine=engine,
    )
    ref = ref_for(events, TZ_SITE, TZ)
    _compare_breakdown(
        got, ref.parts(parse(filters), None, lambda ts: "", prop), prop, metrics.split(",")
    )
    assert got


def test_summaries_answer_the_dashboard_queries(store: Any) -> None:
    """The overview's queries are read from summaries, not raw events."""
    for site, tz in SITES:
        for kw in (
            {"metrics": ["visitors", "visits", "pageviews", "bounce_rate", "visit_duration"]},
            {"metrics": ["visitors"], "property": "event:page"},
            {"metrics": ["visitors"], "property": "visit:source"},
            {"metrics": ["visitors", "visits"], "property": "visit:exit_page"},
            {
                "metrics": ["visitors", "pageviews"],
                "property": "event:page",
                "filters": "visit:country==DE",
            },
        ):
            q = build_query(site, tz=tz, period="custom", date=CUSTOM, **kw)  # type: ignore[arg-type]
            group = "prop" if q.prop else "total"
            assert parts(store, q, group)[1] == "summary"


def test_pagination_and_limit(store: Any) -> None:
    full = stats.query(
        store,
        UTC_SITE,
        kind="breakdown",
        period="custom",
        date=CUSTOM,
        property="event:page",
        limit=1000,
    )
    page2 = stats.query(
        store,
        UTC_SITE,
        kind="breakdown",
        period="custom",
        date=CUSTOM,
        property="event:page",
        limit=2,
        page=2,
    )
    assert page2 == full[2:4]


def test_periods_resolve_in_site_time_zone() -> None:
    now = datetime.fromisoformat("2026-11-01T23:30:00+00:00")  # already Nov 2 in Berlin
    q = build_query(TZ_SITE, tz=TZ, period="7d", today=now)
    assert (q.first, q.last) == (date(2026, 10, 27), date(2026, 11, 2))
    q = build_query(TZ_SITE, tz=TZ, period="month", date="2026-02-10")
    assert (q.first, q.last) == (date(2026, 2, 1), date(2026, 2, 28))
    q = build_query(TZ_SITE, tz=TZ, period="6mo", date="2026-02-10")
    assert (q.first, q.last) == (date(2025, 9, 1), date(2026, 2, 28))
    q = build_query(TZ_SITE, tz=TZ, period="12mo", date="2026-02-10")
    assert (q.first, q.last) == (date(2025, 3, 1), date(2026, 2, 28))
    q = build_query(TZ_SITE, tz=TZ, period="year", date="2026-02-10")
    assert (q.first, q.last) == (date(2026, 1, 1), date(2026, 12, 31))
    q = build_query(TZ_SITE, tz=TZ, period="30d", date="2026-03-30")
    assert (q.first, q.last) == (date(2026, 3, 1), date(2026, 3, 30))
    start, end = q.utc_range()  # spring forward inside: 29 days of 24 h + one of 23 h
    assert (end - start) == timedelta(days=30, hours=-1)


def test_period_all_starts_at_first_event(store: Any, events: list[Any]) -> None:
    got = stats.query(store, UTC_SITE, period="all", date=str(LAST), metrics="pageviews")
    ref = ref_for(events, UTC_SITE, "UTC")
    assert got["pageviews"] == ref.parts([], None, lambda ts: "", None)[""]["pageviews"]


def test_compare_previous_period(store: Any) -> None:
    q = build_query(UTC_SITE, period="7d", date="2026-11-08")
    prev = q.previous()
    assert (prev.first, prev.last) == (date(2026, 10, 26), date(2026, 11, 1))
