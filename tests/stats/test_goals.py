"""Saved goals in the stats engine and API, checked against plain Python (goal_data.py).

The goals are saved in the store's metadata (as `footfall goals add` saves
them) and read by the engine on each query: the `property=event:goal`
breakdown, `filters=event:goal==NAME` resolving a saved goal (its property
match and page wildcard) or keeping an unsaved name's ad-hoc meaning, revenue,
a visit filter beside them, and `compare=previous_period`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from footfall import connect, stats
from footfall.server.state import ServerState
from footfall.stats import StatsError, api
from footfall.stores.meta import SavedGoal, Site, hash_token, open_meta

from .goal_data import BEFORE, FIRST, GOALS, LAST, PERIOD, SITE, Expect, build

SECRET = "ff_goals_test_secret"
AUTH = {"Authorization": f"Bearer {SECRET}"}
ALL = "visitors,events,conversion_rate,total_revenue,average_revenue"
GOAL = {g.name: g for g in GOALS}
GOAL_PAIR = ("Signup", "Purchase")


@pytest.fixture(scope="module")
def events() -> list[Any]:
    return build()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, events: list[Any]) -> Iterator[Any]:
    path: Path = tmp_path_factory.mktemp("goals") / "goals.db"
    s = connect(f"sqlite:///{path}")
    meta = open_meta(s)
    meta.add_site(Site(SITE))
    meta.add_token("goals", SITE, hash_token(SECRET), SECRET[:9])
    for goal in GOALS:
        assert meta.add_goal(goal) is not None
    for i in range(0, len(events), 41):
        s.write(events[i : i + 41])
    yield s
    s.close()


def _q(store: Any, **params: Any) -> Any:
    params.setdefault("period", "custom")
    params.setdefault("date", PERIOD)
    return stats.query(store, SITE, **params)


def _de(e: Any) -> bool:
    return bool(e.country == "DE")


@pytest.mark.parametrize("engine", ["auto", "raw"])
def test_goal_breakdown_matches_python(store: Any, events: list[Any], engine: str) -> None:
    got = _q(store, kind="breakdown", property="event:goal", metrics=ALL, engine=engine)
    want = Expect(events).breakdown()
    assert got == want
    assert "Never" not in {r["goal"] for r in got}  # nobody completed it: no row
    purchase = next(r for r in got if r["goal"] == "Purchase")
    assert purchase["total_revenue"]["value"] > 0 and purchase["total_revenue"]["currency"] == "EUR"


def test_goal_breakdown_with_a_visit_filter(store: Any, events: list[Any]) -> None:
    got = _q(
        store, kind="breakdown", property="event:goal", metrics=ALL, filters="visit:country==DE"
    )
    assert got == Expect(events, where=_de).breakdown()


def test_goal_breakdown_paging_and_goal_filter(store: Any, events: list[Any]) -> None:
    want = Expect(events).breakdown()
    page2 = _q(store, kind="breakdown", property="event:goal", metrics=ALL, limit=2, page=2)
    assert page2 == want[2:4]
    some = _q(
        store,
        kind="breakdown",
        property="event:goal",
        metrics="visitors",
        filters="event:goal==Signup|Purchase",
    )
    assert [r["goal"] for r in some] == [r["goal"] for r in want if r["goal"] in GOAL_PAIR]


@pytest.mark.parametrize(
    "names",
    [
        ["Visit /pricing"],
        ["Visit /blog/**"],
        ["Signup"],
        ["Signup (plan=pro)"],
        ["Purchase"],
        ["Purchase", "Visit /pricing"],
    ],
)
@pytest.mark.parametrize("country", [False, True])
def test_goal_filter_matches_python(
    store: Any, events: list[Any], names: list[str], country: bool
) -> None:
    filters = "event:goal==" + "|".join(names) + (";visit:country==DE" if country else "")
    metrics = "visitors,events,conversion_rate"
    if "Purchase" in names:
        metrics += ",total_revenue,average_revenue"
    got = _q(store, filters=filters, metrics=metrics)
    want = Expect(events, where=_de if country else lambda e: True).metrics(
        [GOAL[n] for n in names]
    )
    assert got == {m: want[m] for m in metrics.split(",")}
    assert got["visitors"] > 0


def test_a_saved_goal_narrows_a_breakdown(store: Any, events: list[Any]) -> None:
    """`event:goal==Signup (plan=pro)` counts pro sign-ups only: its property match holds."""
    got = _q(
        store,
        kind="breakdown",
        property="visit:country",
        metrics="visitors,events,conversion_rate",
        filters="event:goal==Signup (plan=pro)",
    )
    want = []
    for country in ("DE", "US", "FR"):
        m = Expect(events, where=lambda e, c=country: e.country == c).metrics(
            [GOAL["Signup (plan=pro)"]]
        )
        if m["events"]:
            want.append({"country": country, **{k: m[k] for k in ("visitors", "events")},
                         "conversion_rate": m["conversion_rate"]})  # fmt: skip
    want.sort(key=lambda r: (-r["visitors"], r["country"]))
    assert got == want


def test_unsaved_names_keep_their_ad_hoc_meaning(store: Any, events: list[Any]) -> None:
    got = _q(store, filters="event:goal==Visit /docs|Signup", metrics="visitors,events")
    want = Expect(events).metrics(
        [SavedGoal(SITE, "", page="/docs"), SavedGoal(SITE, "", event="Signup")]
    )
    assert got == {"visitors": want["visitors"], "events": want["events"]}
    # Given no goals (as for a store without metadata), "Signup (plan=pro)" is an event name.
    none = _q(store, filters="event:goal==Signup (plan=pro)", metrics="events", goals=[])
    assert none == {"events": 0}


def test_goal_timeseries_adds_up(store: Any, events: list[Any]) -> None:
    rows = _q(
        store, kind="timeseries", filters="event:goal==Purchase", metrics="events,total_revenue"
    )
    want = Expect(events).metrics([GOAL["Purchase"]])
    assert sum(r["events"] for r in rows) == want["events"]
    total = sum(r["total_revenue"]["value"] for r in rows)
    assert total == pytest.approx(want["total_revenue"]["value"])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"metrics": "conversion_rate"}, "needs a goal filter"),
        ({"metrics": "total_revenue"}, "needs a goal filter"),
        ({"kind": "breakdown", "property": "event:goal", "metrics": "bounce_rate"}, "event:goal"),
        ({"filters": "event:goal!=Signup"}, "event:goal takes goal names"),
        ({"filters": "event:goal==Signup;event:goal==Purchase"}, "only one event:goal"),
    ],
)
def test_refused(store: Any, params: dict[str, Any], message: str) -> None:
    with pytest.raises(StatsError) as info:
        _q(store, **params)
    assert message in str(info.value)


def test_revenue_in_two_currencies_is_refused(store: Any) -> None:
    goals = [*GOALS, SavedGoal(SITE, "Refund", event="Signup", revenue_prop="x", currency="USD")]
    with pytest.raises(StatsError) as info:
        _q(store, filters="event:goal==Purchase|Refund", metrics="total_revenue", goals=goals)
    assert "different currencies" in str(info.value)


# -- the HTTP API --------------------------------------------------------------


@pytest.fixture(scope="module")
def client(store: Any) -> Iterator[TestClient]:
    state = ServerState(store=store, tracker=None, db_url=store.url)  # type: ignore[arg-type]
    with TestClient(Starlette(routes=api.routes(state))) as c:
        yield c


def _get(client: TestClient, path: str, **params: Any) -> Any:
    params.setdefault("site_id", SITE)
    params.setdefault("period", "custom")
    params.setdefault("date", PERIOD)
    r = client.get(f"/api/v1/stats/{path}", params=params, headers=AUTH)
    assert r.status_code == 200, r.text
    return r.json()


def test_api_breakdown_by_goal(client: TestClient, events: list[Any]) -> None:
    body = _get(client, "breakdown", property="event:goal", metrics=ALL)
    assert body == {"results": Expect(events).breakdown()}


def _change(now: float, before: float, points: bool = False) -> Any:
    if points:
        return round(now - before, 1)
    return round(100 * (now - before) / before) if before else None


def test_api_compare_previous_period_with_a_goal_and_a_filter(
    client: TestClient, events: list[Any]
) -> None:
    body = _get(
        client,
        "aggregate",
        metrics=ALL,
        filters="event:goal==Purchase;visit:country==DE",
        compare="previous_period",
    )["results"]
    assert (LAST - FIRST).days == (FIRST - BEFORE).days - 1  # the previous period is the data's
    goal = [GOAL["Purchase"]]
    now = Expect(events, where=_de).metrics(goal)
    was = Expect(events, first=BEFORE, last=FIRST - timedelta(days=1), where=_de).metrics(goal)
    assert {m: v["value"] for m, v in body.items()} == {m: now[m] for m in ALL.split(",")}
    assert body["visitors"]["change"] == _change(now["visitors"], was["visitors"])
    assert body["events"]["change"] == _change(now["events"], was["events"])
    assert body["conversion_rate"]["change"] == _change(
        now["conversion_rate"], was["conversion_rate"], points=True
    )
    assert body["total_revenue"]["change"] == _change(
        now["total_revenue"]["value"], was["total_revenue"]["value"]
    )
    assert was["visitors"] > 0 and now["visitors"] > 0
