"""The HTTP API: Plausible v1 shapes, authorisation, and 4xx for bad input."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.testclient import TestClient

from footfall.server.app import create_app
from footfall.server.state import ServerState
from footfall.stats import api

from .conftest import TOKENS
from .dataset import DAYS, START, TZ, TZ_SITE, UTC_SITE, Ref
from .test_engine import CUSTOM, FIRST, LAST

AUTH = {"Authorization": f"Bearer {TOKENS[UTC_SITE]}"}


class FakeSession(BaseHTTPMiddleware):
    """Stands in for the dashboard's session middleware."""

    async def dispatch(self, request: Any, call_next: Any) -> Any:
        if request.headers.get("x-test-user"):
            request.state.footfall_user = request.headers["x-test-user"]
        return await call_next(request)


@pytest.fixture(scope="module")
def client(store: Any) -> Iterator[TestClient]:
    state = ServerState(store=store, tracker=None, db_url=store.url)  # type: ignore[arg-type]
    app = Starlette(routes=api.routes(state), middleware=[Middleware(FakeSession)])
    with TestClient(app) as c:
        yield c


def get(client: TestClient, path: str, headers: dict[str, str] | None = AUTH, **params: Any) -> Any:
    return client.get(f"/api/v1/stats/{path}", params=params, headers=headers or {})


def test_aggregate_shape_and_numbers(client: TestClient, events: list[Any]) -> None:
    r = get(
        client,
        "aggregate",
        site_id=UTC_SITE,
        period="custom",
        date=CUSTOM,
        metrics="visitors,pageviews,bounce_rate",
    )
    assert r.status_code == 200, r.text
    ref = Ref(events, UTC_SITE, "UTC", FIRST, LAST)
    expected = Ref.metrics(
        ref.parts([], None, lambda ts: "", None)[""], ["visitors", "pageviews", "bounce_rate"]
    )
    assert r.json() == {"results": {m: {"value": v} for m, v in expected.items()}}


def test_aggregate_compare(client: TestClient) -> None:
    r = get(
        client,
        "aggregate",
        site_id=UTC_SITE,
        period="7d",
        date=str(LAST),
        metrics="visitors,bounce_rate",
        compare="previous_period",
    )
    body = r.json()["results"]
    assert set(body["visitors"]) == {"value", "change"}
    assert isinstance(body["bounce_rate"]["change"], float | int)


def test_timeseries_shape(client: TestClient) -> None:
    r = get(client, "timeseries", site_id=UTC_SITE, period="custom", date=CUSTOM)
    rows = r.json()["results"]
    assert (
        len(rows) == DAYS and rows[0]["date"] == str(START) and set(rows[0]) == {"date", "visitors"}
    )


def test_breakdown_shape(client: TestClient) -> None:
    for prop, key in [
        ("event:page", "page"),
        ("visit:source", "source"),
        ("visit:entry_page", "entry_page"),
        ("event:props:plan", "plan"),
        ("visit:browser", "browser"),
    ]:
        r = get(client, "breakdown", site_id=UTC_SITE, period="custom", date=CUSTOM, property=prop)
        rows = r.json()["results"]
        assert rows and set(rows[0]) == {key, "visitors"}, (prop, rows[:1])


def test_public_site_needs_no_token(client: TestClient) -> None:
    r = get(client, "aggregate", headers=None, site_id=TZ_SITE, period="custom", date=CUSTOM)
    assert r.status_code == 200 and r.json()["results"]["visitors"]["value"] > 0


def test_dashboard_session_is_enough(client: TestClient) -> None:
    r = get(client, "aggregate", headers={"x-test-user": "alice"}, site_id=UTC_SITE)
    assert r.status_code == 200


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (None, 401),
        ({"Authorization": "Bearer nope"}, 401),
        ({"Authorization": "Basic abc"}, 401),
        ({"Authorization": f"Bearer {TOKENS[TZ_SITE]}"}, 403),
    ],
)
def test_private_site_rejects(client: TestClient, headers: Any, status: int) -> None:
    r = get(client, "aggregate", headers=headers, site_id=UTC_SITE)
    assert r.status_code == status
    assert "Authorization" in r.json()["error"]


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({}, "site_id"),
        ({"metrics": "visitors,nope"}, "metrics"),
        ({"metrics": "visitors;DROP TABLE events"}, "metrics"),
        ({"period": "forever"}, "period"),
        ({"period": "custom", "date": "2026-02-30,2026-03-01"}, "date"),
        ({"period": "custom", "date": "2026-03-01"}, "date"),
        ({"period": "custom", "date": "2026-03-05,2026-03-01"}, "date"),
        ({"period": "day", "date": "yesterday"}, "date"),
        ({"filters": "visit:nope==1"}, "filters"),
        ({"filters": "visit:country"}, "filters"),
        ({"filters": "==DE"}, "filters"),
        ({"filters": "event:props:a'b==1"}, "filters"),
        ({"filters": "event:status==abc"}, "filters"),
        ({"filters": "event:goal==Signup", "metrics": "visitors"}, None),
        ({"metrics": "conversion_rate"}, "metrics"),
        ({"interval": "minute"}, "interval"),
        ({"compare": "last_year"}, "compare"),
        ({"limit": "0"}, "limit"),
        ({"limit": "ten"}, "limit"),
    ],
)
def test_bad_parameters_are_400(
    client: TestClient, params: dict[str, str], param: str | None
) -> None:
    query = {"site_id": UTC_SITE, **params} if param != "site_id" else params
    r = get(client, "aggregate", **query)
    if param is None:
        assert r.status_code == 200
        return
    assert r.status_code == 400, r.text
    assert r.json()["error"].startswith(f"{param}:")


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({}, "property"),
        ({"property": "visit:country; DROP TABLE events"}, "property"),
        ({"property": 'event:props:x") OR 1=1 --'}, "property"),
        ({"property": "visit:country", "page": "-1"}, "page"),
    ],
)
def test_bad_breakdown_parameters(client: TestClient, params: dict[str, str], param: str) -> None:
    r = get(client, "breakdown", site_id=UTC_SITE, **params)
    assert r.status_code == 400 and r.json()["error"].startswith(f"{param}:")


@pytest.mark.parametrize(
    "value",
    ["DE' OR '1'='1", 'DE") OR 1=1 -- DROP TABLE events', "%", "_", "*", "\\", "DE|US' --"],
)
def test_sql_metacharacters_are_plain_values(client: TestClient, value: str) -> None:
    r = get(
        client,
        "aggregate",
        site_id=UTC_SITE,
        period="custom",
        date=CUSTOM,
        filters=f"visit:country=={value}",
    )
    assert r.status_code == 200
    expected = 0
    if value == "DE|US' --":  # "DE" matches; "US' --" is a literal value matching nothing
        expected = get(
            client,
            "aggregate",
            site_id=UTC_SITE,
            period="custom",
            date=CUSTOM,
            filters="visit:country==DE",
        ).json()["results"]["visitors"]["value"]
    assert r.json()["results"]["visitors"]["value"] == expected
    assert get(client, "aggregate", site_id=UTC_SITE).status_code == 200  # the table is still there


def test_semicolon_starts_a_new_condition(client: TestClient) -> None:
    r = get(client, "aggregate", site_id=UTC_SITE, filters="visit:country==DE; DROP TABLE events")
    assert r.status_code == 400 and r.json()["error"].startswith("filters:")


def test_a_token_for_one_site_gets_403_for_another_and_404_for_an_unknown_one(
    client: TestClient,
) -> None:
    assert get(client, "aggregate", site_id=TZ_SITE).status_code == 403
    unknown = get(client, "aggregate", site_id="other.test")
    assert unknown.status_code == 404 and "unknown site 'other.test'" in unknown.json()["error"]


def test_openapi_document(store: Any) -> None:
    with TestClient(create_app(store.url)) as server:
        doc = server.get("/api/docs").json()
    assert doc["openapi"].startswith("3.")
    assert {
        "/api/v1/stats/aggregate",
        "/api/v1/stats/timeseries",
        "/api/v1/stats/breakdown",
        "/api/v1/stats/realtime/visitors",
        "/api/v1/stats/funnel",
        "/api/event",  # the collector's part, put together by the server
        "/health",
    } <= set(doc["paths"])


def test_funnel_endpoint(client: TestClient, events: list[Any]) -> None:
    steps = ["event:page==/", "event:page==/pricing", "event:name==Signup"]
    r = client.get(
        "/api/v1/stats/funnel",
        headers=AUTH,
        params={"site_id": UTC_SITE, "period": "custom", "date": CUSTOM, "step": steps},
    )
    assert r.status_code == 200, r.text
    body = r.json()["results"]
    ref = Ref(events, UTC_SITE, "UTC", FIRST, LAST)
    expected = reference_funnel(ref, [("page", "/"), ("page", "/pricing"), ("name", "Signup")])
    assert [s["visitors"] for s in body["steps"]] == expected
    assert expected[0] > expected[-1] > 0
    second = body["steps"][1]
    assert second["dropoff"] == expected[0] - expected[1]
    assert second["conversion_rate"] == pytest.approx(100 * expected[1] / expected[0], abs=0.01)


def reference_funnel(ref: Ref, steps: list[tuple[str, str]]) -> list[int]:
    by_visitor: dict[str, list[Any]] = {}
    for e in sorted(ref.all, key=lambda e: (e.ts, e.id)):
        if ref.in_range(e) and e.visitor_id:
            by_visitor.setdefault(e.visitor_id, []).append(e)
    reached = [0] * len(steps)
    for evs in by_visitor.values():
        step = 0
        for e in evs:
            kind, value = steps[step] if step < len(steps) else ("", "")
            if (
                kind
                and (e.path if kind == "page" else e.name) == value
                and (kind == "name" or e.name == "pageview")
            ):
                reached[step] += 1
                step += 1
    return reached


@pytest.mark.parametrize(
    ("steps", "fragment"),
    [
        (["event:page==/"], "at least 2"),
        (["event:page==/", "visit:country==DE"], "event:page"),
        (["event:page==/", "event:page~x"], "event:page"),
        (["event:page==/", "nonsense"], "operator"),
    ],
)
def test_bad_funnel_steps(client: TestClient, steps: list[str], fragment: str) -> None:
    r = client.get(
        "/api/v1/stats/funnel", headers=AUTH, params={"site_id": UTC_SITE, "step": steps}
    )
    assert (
        r.status_code == 400
        and r.json()["error"].startswith("step:")
        and fragment in r.json()["error"]
    )


def test_realtime_endpoints(client: TestClient) -> None:
    r = get(client, "realtime/visitors", site_id=UTC_SITE)
    assert r.status_code == 200 and r.json() == 0  # the data set is in the past
    r = get(client, "realtime/pages", site_id=UTC_SITE)
    assert r.json() == {"results": []}


def test_tz_site_uses_its_zone(client: TestClient, events: list[Any]) -> None:
    r = get(client, "timeseries", headers=None, site_id=TZ_SITE, period="day", date="2026-10-25")
    assert len(r.json()["results"]) == 24
    ref = Ref(events, TZ_SITE, TZ, FIRST, LAST)
    assert ref.tz.key == TZ
