"""Goals and conversions on every store: the same numbers as plain Python.

The goal data set (tests/stats/goal_data.py) is written to SQLite,
PostgreSQL, ClickHouse 18.16 (one server and a two-shard cluster) and
current ClickHouse (chDB, alone and as a cluster of itself); every store's
goal breakdown, goal filters (saved goals with a property match, a page
wildcard, revenue; `A|B`) and previous period must equal what `Expect`
computes without SQL. ClickHouse keeps no metadata of its own: with a
metadata store attached (`connect(url, meta=...)`), the engine reads the
site's goals from there.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from tests.stats.goal_data import BEFORE, FIRST, GOALS, PERIOD, SITE, Expect, build
from tests.stores.test_stats_backends import BACKENDS

from footfall import Event, connect, stats
from footfall.stats import StatsError
from footfall.stats.api import changes
from footfall.stores.base import SUMMARIES_FOLDED
from footfall.stores.meta import SavedGoal, Site, open_meta

ALL = "visitors,events,conversion_rate,total_revenue,average_revenue"
GOAL = {g.name: g for g in GOALS}
STORES = {"sqlite": lambda tmp: connect(f"sqlite:///{tmp / 'goals.db'}"), **BACKENDS}


@pytest.fixture(scope="module")
def events() -> list[Any]:
    return build()


@pytest.fixture(scope="module", params=sorted(STORES))
def store(
    request: Any, tmp_path_factory: pytest.TempPathFactory, events: list[Any]
) -> Iterator[Any]:
    s = STORES[request.param](tmp_path_factory.mktemp(request.param))
    for i in range(0, len(events), 53):
        s.write(events[i : i + 53])
    yield s
    s.close()


def _q(store: Any, **params: Any) -> Any:
    params.setdefault("period", "custom")
    params.setdefault("date", PERIOD)
    params.setdefault("goals", GOALS)
    return stats.query(store, SITE, tz="UTC", engine="raw", **params)


def _de(e: Any) -> bool:
    return bool(e.country == "DE")


def test_goal_breakdown(store: Any, events: list[Any]) -> None:
    got = _q(store, kind="breakdown", property="event:goal", metrics=ALL)
    assert got == Expect(events).breakdown()
    filtered = _q(
        store, kind="breakdown", property="event:goal", metrics=ALL, filters="visit:country==DE"
    )
    assert filtered == Expect(events, where=_de).breakdown()


@pytest.mark.parametrize(
    "names", [["Signup (plan=pro)"], ["Visit /blog/**"], ["Purchase", "Visit /pricing"]]
)
def test_goal_filters(store: Any, events: list[Any], names: list[str]) -> None:
    filters = "event:goal==" + "|".join(names) + ";visit:country==DE"
    got = _q(store, filters=filters, metrics=ALL)
    assert got == Expect(events, where=_de).metrics([GOAL[n] for n in names])


def test_previous_period(store: Any, events: list[Any]) -> None:
    """`compare=previous_period`: the API's `changes` over the period before."""
    q = stats.make_query(
        store, SITE, tz="UTC", period="custom", date=PERIOD, metrics=ALL, engine="raw",
        filters="event:goal==Purchase", goals=GOALS,
    )  # fmt: skip
    now = stats.aggregate(store, q)
    before = stats.aggregate(store, q.previous())
    goal = [GOAL["Purchase"]]
    assert now == Expect(events).metrics(goal)
    assert before == Expect(events, first=BEFORE, last=FIRST - timedelta(days=1)).metrics(goal)
    change = changes(store, q, now)
    revenue = (now["total_revenue"]["value"], before["total_revenue"]["value"])
    assert change["total_revenue"] == round(100 * (revenue[0] - revenue[1]) / revenue[1])
    assert change["conversion_rate"] == round(now["conversion_rate"] - before["conversion_rate"], 1)


def test_goal_summaries_answer_as_raw_events(store: Any, events: list[Any]) -> None:
    """SQLite and PostgreSQL count goals from `stats_goal_rows` with the raw SQL's
    numbers (the previous period too); ClickHouse counts them from raw events."""
    goals_only = "visitors,events,total_revenue,average_revenue"
    params: dict[str, Any] = dict(kind="breakdown", property="event:goal", metrics=goals_only)
    if store.summaries != SUMMARIES_FOLDED:
        with pytest.raises(StatsError, match="raw events"):
            stats.query(store, SITE, tz="UTC", period="custom", date=PERIOD, goals=GOALS,
                        engine="summary", **params)  # fmt: skip
        return
    previous = f"{BEFORE},{FIRST - timedelta(days=1)}"
    for date, filters in ((PERIOD, None), (PERIOD, "visit:country==DE"), (previous, None)):
        summary = stats.query(
            store, SITE, tz="UTC", period="custom", date=date, goals=GOALS, filters=filters,
            engine="summary", **params,
        )  # fmt: skip
        assert summary == _q(store, date=date, filters=filters, **params)
        assert summary


@pytest.mark.parametrize("name", ["sqlite", "postgres"])
def test_goal_rows_keep_long_properties(name: str, tmp_path: Path) -> None:
    """Properties far past an index entry's size (PostgreSQL keys them by hash), folded
    one event at a time and twice over: the goal rows count them as raw events do."""
    s = STORES[name](tmp_path)
    try:
        at = datetime(2026, 9, 16, 12, tzinfo=timezone.utc)
        long = {f"k{i}": "x" * 1_900 for i in range(6)} | {"amount": 12.5}
        for i in range(3):
            s.write([Event(name="Purchase", ts=at, site=SITE, visitor_id="v1", visit_id="s1",
                           props=long, id=f"long{i}")])  # fmt: skip
            stats.query(s, SITE, tz="UTC", period="custom", date=PERIOD)  # folds this one
        goal = [
            SavedGoal(SITE, "Purchase", event="Purchase", revenue_prop="amount", currency="EUR")
        ]
        params: dict[str, Any] = dict(
            kind="breakdown", property="event:goal", metrics="visitors,events,total_revenue",
            tz="UTC", period="custom", date=PERIOD, goals=goal,
        )  # fmt: skip
        summary = stats.query(s, SITE, engine="summary", **params)
        assert summary == stats.query(s, SITE, engine="raw", **params)
        assert summary == [
            {"goal": "Purchase", "visitors": 1, "events": 3,
             "total_revenue": {"value": 37.5, "currency": "EUR"}}
        ]  # fmt: skip
    finally:
        s.close()


def test_goals_come_from_the_metadata_store(tmp_path: Path, events: list[Any]) -> None:
    """ClickHouse (chDB here) with its metadata in SQLite: the engine reads goals there."""
    chdb = BACKENDS["clickhouse-chdb"](tmp_path / "ch")
    meta = connect(f"sqlite:///{tmp_path / 'meta.db'}")
    try:
        chdb.meta_store = meta  # what `connect(url, meta=...)` does (`Store.attach_meta`)
        m = open_meta(chdb)
        m.add_site(Site(SITE))
        for goal in GOALS:
            m.add_goal(goal)
        chdb.write(events)
        got = stats.query(
            chdb, SITE, kind="breakdown", property="event:goal", metrics=ALL, period="custom",
            date=PERIOD, engine="raw",
        )  # fmt: skip
        assert got == Expect(events).breakdown()
    finally:
        chdb.close()
        meta.close()
