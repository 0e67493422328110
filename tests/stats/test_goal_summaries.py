"""The goal breakdown from `stats_goal_rows` gives exactly the raw SQL's answers.

The goal data set (goal_data.py) is written to a real SQLite file and folded
by the catch-up; every breakdown is asked of the goal summaries
(`engine="summary"`, which refuses rather than fall back) and of raw events,
and both must equal what `Expect` computes in plain Python: the period and
the one before it (what `compare=previous_period` reads), a visit filter,
goals named by `event:goal`, goals saved after the events were folded, and
the fall-backs (event filters, stale goal rows after a delete) until a rebuild.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from footfall import connect, stats
from footfall.stats import StatsError
from footfall.stats.summaries.rebuild import rebuild
from footfall.stores.meta import SavedGoal, Site, open_meta

from .goal_data import BEFORE, FIRST, GOALS, PERIOD, SITE, Expect, build

ALL = "visitors,events,conversion_rate,total_revenue,average_revenue"
PREVIOUS = f"{BEFORE},{FIRST - timedelta(days=1)}"


@pytest.fixture(scope="module")
def events() -> list[Any]:
    return build()


def _fill(path: Path, events: list[Any]) -> Any:
    s = connect(f"sqlite:///{path}")
    meta = open_meta(s)
    meta.add_site(Site(SITE))
    for goal in GOALS:
        assert meta.add_goal(goal) is not None
    for i in range(0, len(events), 37):
        s.write(events[i : i + 37])
    return s


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, events: list[Any]) -> Iterator[Any]:
    s = _fill(tmp_path_factory.mktemp("goal-summaries") / "goals.db", events)
    yield s
    s.close()


def _breakdown(store: Any, engine: str, **params: Any) -> Any:
    params.setdefault("period", "custom")
    params.setdefault("date", PERIOD)
    params.setdefault("metrics", ALL)
    return stats.query(
        store, SITE, kind="breakdown", property="event:goal", engine=engine, **params
    )


def _de(e: Any) -> bool:
    return bool(e.country == "DE")


@pytest.mark.parametrize("previous", [False, True])
@pytest.mark.parametrize("filters", [None, "visit:country==DE", "visit:country!=DE"])
def test_summary_equals_raw_and_python(
    store: Any, events: list[Any], filters: str | None, previous: bool
) -> None:
    period = PREVIOUS if previous else PERIOD
    summary = _breakdown(store, "auto", filters=filters, date=period)
    assert summary == _breakdown(store, "raw", filters=filters, date=period)
    # Conversion rates also need the period's visitors, which the overview
    # summaries answer only unfiltered: ask the goal summaries for the rest alone.
    goals_only = "visitors,events,total_revenue,average_revenue"
    assert _breakdown(store, "summary", filters=filters, date=period, metrics=goals_only) == [
        {k: r[k] for k in ("goal", *goals_only.split(","))} for r in summary
    ]
    first, last = (BEFORE, FIRST - timedelta(days=1)) if previous else (FIRST, None)
    # A visit filter reaches only events of a visit (the server's purchases have none).
    where = {None: lambda e: True, "visit:country==DE": _de}.get(
        filters, lambda e: bool(e.visit_id) and not _de(e)
    )
    want = Expect(events, first=first, where=where)
    if last is not None:
        want.last = last
    assert summary == want.breakdown()
    purchase = next(r for r in summary if r["goal"] == "Purchase")
    assert purchase["total_revenue"]["value"] > 0


def test_named_goals_and_paging(store: Any) -> None:
    for params in (
        {"filters": "event:goal==Signup|Visit /blog/**"},
        {"limit": 2, "page": 2},
        {"metrics": "events,visitors"},
    ):
        assert _breakdown(store, "summary", **params) == _breakdown(store, "raw", **params)


def test_goals_saved_after_the_fact(store: Any, events: list[Any]) -> None:
    """Goals nobody knew of when the events were folded count them all."""
    later = [
        SavedGoal(SITE, "Any blog page", page="/blog/*"),
        SavedGoal(SITE, "Docs", page="/docs"),
        SavedGoal(SITE, "Any a or b", page="**/*"),  # no literal prefix: paths from the rollup
        SavedGoal(SITE, "Deep b", page="**/b"),
        SavedGoal(SITE, "Nowhere", page="**/nowhere"),
        SavedGoal(SITE, "Team plan", event="Signup", prop_key="plan", prop_value="team"),
        SavedGoal(SITE, "Purchase", event="Purchase", revenue_prop="amount", currency="EUR"),
    ]
    summary = _breakdown(store, "summary", goals=later)
    assert summary == _breakdown(store, "raw", goals=later)
    assert {r["goal"] for r in summary} == {g.name for g in later} - {"Nowhere"}


def test_the_summary_path_is_taken(store: Any) -> None:
    """The default engine reads `stats_goal_rows`, not the raw goal scan."""
    seen: list[str] = []
    store.conn.set_trace_callback(seen.append)
    try:
        found = _breakdown(store, "auto", filters="visit:country==DE")
    finally:
        store.conn.set_trace_callback(None)
    assert found
    assert any("FROM stats_goal_rows" in s for s in seen)
    assert not any("COUNT(DISTINCT CASE WHEN" in s for s in seen)  # goal_breakdown_sql


@pytest.mark.parametrize(
    ("params", "why"),
    [
        ({"filters": "event:page==/pricing"}, "event filters"),
        ({"goals": [SavedGoal(SITE, "Views", event="pageview")]}, "pageview events"),
        ({"filters": "visit:user_id==u1"}, "do not keep"),
        (
            {"goals": [SavedGoal(SITE, "Paid", page="/pricing", revenue_prop="a", currency="EUR")]},
            "revenue of page goals",
        ),
    ],
)
def test_what_the_goal_rows_cannot_answer_reads_raw_events(
    store: Any, params: dict[str, Any], why: str
) -> None:
    with pytest.raises(StatsError) as info:
        _breakdown(store, "summary", metrics="visitors,events", **params)
    assert why in str(info.value)
    assert _breakdown(store, "auto", **params) == _breakdown(store, "raw", **params)


def test_deletes_and_rebuild_keep_goal_rows_exact(
    store: Any, events: list[Any], tmp_path: Path
) -> None:
    """A deleted visitor or a purge leaves goal rows stale: raw events answer until
    `footfall stats rebuild` recomputes them, then the goal rows answer exactly again."""
    path = tmp_path / "copy.db"
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(Path(store.url.removeprefix("sqlite:///")), path)
    s = connect(f"sqlite:///{path}")
    try:
        assert s.delete_visitor("gv3", site=SITE) > 0
        with pytest.raises(StatsError, match="not complete"):
            _breakdown(s, "summary")
        rebuild(s, SITE)
        kept = [e for e in events if e.visitor_id != "gv3"]
        assert _breakdown(s, "summary") == _breakdown(s, "raw") == Expect(kept).breakdown()
        assert s.purge(datetime(2026, 9, 20, tzinfo=timezone.utc), site=SITE) > 0
        with pytest.raises(StatsError, match="not complete"):
            _breakdown(s, "summary")
        rebuild(s, SITE)
        assert _breakdown(s, "summary") == _breakdown(s, "raw")
        # Sites folded before the goal rows existed (migration 0056) read raw events.
        s.conn.execute("UPDATE stats_sites SET goal_rows = 0")
        with pytest.raises(StatsError, match="not complete"):
            _breakdown(s, "summary")
        rebuild(s, SITE)
        assert _breakdown(s, "summary") == _breakdown(s, "raw")
    finally:
        s.close()
