"""What anonymous readers of a public site may see, and comparisons with an empty past."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.testclient import TestClient

from footfall.server.state import ServerState
from footfall.stats import api
from footfall.stats.properties import ALL_NAMES

from .conftest import TOKENS
from .dataset import DAYS, START, TZ_SITE, UTC_SITE

ANON: dict[str, str] = {}
TOKEN = {"Authorization": f"Bearer {TOKENS[TZ_SITE]}"}
PRIVATE_TOKEN = {"Authorization": f"Bearer {TOKENS[UTC_SITE]}"}
SESSION = {"x-test-user": "alice"}
USER_IDS = [f"user{i}" for i in range(5)]  # what the data set puts in user_id
LAST = START + timedelta(days=DAYS - 1)
CUSTOM = f"{START},{LAST}"  # the whole data set


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


def get(client: TestClient, path: str, headers: dict[str, str], **params: Any) -> Any:
    return client.get(
        f"/api/v1/stats/{path}",
        params={"site_id": TZ_SITE, "period": "custom", "date": CUSTOM, **params},
        headers=headers,
    )


# -- user ids on a public site ------------------------------------------------------


def test_anonymous_breakdown_by_user_id_is_refused(client: TestClient) -> None:
    r = get(client, "breakdown", ANON, property="visit:user_id")
    assert r.status_code == 401
    error = r.json()["error"]
    assert error.startswith("property: visit:user_id") and "token" in error and "login" in error
    assert not any(uid in r.text for uid in USER_IDS)


@pytest.mark.parametrize("endpoint", ["aggregate", "timeseries", "breakdown"])
@pytest.mark.parametrize(
    "condition", ["visit:user_id==user1", "visit:user_id!=user1", "visit:user_id~user"]
)
def test_anonymous_filter_by_user_id_is_refused(
    client: TestClient, endpoint: str, condition: str
) -> None:
    extra = {"property": "event:page"} if endpoint == "breakdown" else {}
    r = get(client, endpoint, ANON, filters=f"visit:country==DE;{condition}", **extra)
    assert r.status_code == 401, r.text
    assert r.json()["error"].startswith("filters: visit:user_id")


@pytest.mark.parametrize("headers", [TOKEN, SESSION], ids=["token", "dashboard login"])
def test_known_readers_may_break_down_and_filter_by_user_id(
    client: TestClient, headers: dict[str, str]
) -> None:
    r = get(client, "breakdown", headers, property="visit:user_id")
    assert r.status_code == 200, r.text
    listed = {row["user_id"] for row in r.json()["results"]}
    assert set(USER_IDS) <= listed
    r = get(client, "aggregate", headers, filters="visit:user_id==user1")
    assert r.status_code == 200 and r.json()["results"]["visitors"]["value"] > 0


def test_no_other_anonymous_answer_carries_a_user_id(client: TestClient) -> None:
    """Every other property, the funnel and realtime: counts, never who."""
    answers = []
    for name in ALL_NAMES:
        prop = "event:props:plan" if name == "event:props:<key>" else name
        if prop == "visit:user_id":
            continue
        r = get(client, "breakdown", ANON, property=prop, limit="1000")
        assert r.status_code == 200, (prop, r.text)
        answers.append(r.text)
    steps = [("step", "event:page==/"), ("step", "event:page==/signup")]
    r = client.get(
        "/api/v1/stats/funnel",
        params=[("site_id", TZ_SITE), ("period", "custom"), ("date", CUSTOM), *steps],
    )
    assert r.status_code == 200
    answers.append(r.text)
    answers.append(get(client, "realtime/pages", ANON).text)
    answers.append(get(client, "aggregate", ANON, metrics="visitors,visits,events").text)
    body = json.dumps(answers)
    assert not [uid for uid in USER_IDS if uid in body]


# -- comparison with a period that holds nothing ------------------------------------

ALL_METRICS = (
    "visitors,visits,pageviews,events,bounce_rate,visit_duration,views_per_visit,"
    "requests,error_rate"
)


def test_change_is_null_when_the_previous_period_is_empty(client: TestClient) -> None:
    # The data set starts on the first day of CUSTOM: the period before it is empty.
    for metrics, filters in [
        (ALL_METRICS, None),
        ("visitors,conversion_rate", "event:goal==Signup"),
    ]:
        params: dict[str, Any] = {"metrics": metrics, "compare": "previous_period"}
        if filters:
            params["filters"] = filters
        r = get(client, "aggregate", PRIVATE_TOKEN, site_id=UTC_SITE, **params)
        assert r.status_code == 200, r.text
        results = r.json()["results"]
        assert any(entry["value"] for entry in results.values())
        assert {m: entry["change"] for m, entry in results.items()} == dict.fromkeys(results, None)


def test_change_is_a_number_when_both_periods_have_data(client: TestClient) -> None:
    r = get(
        client,
        "aggregate",
        PRIVATE_TOKEN,
        site_id=UTC_SITE,
        period="7d",
        date=str(LAST),
        metrics=ALL_METRICS,
        compare="previous_period",
    )
    results = r.json()["results"]
    numeric = {m for m, entry in results.items() if isinstance(entry["change"], int | float)}
    assert numeric >= {"visitors", "visits", "pageviews", "bounce_rate", "visit_duration"}
