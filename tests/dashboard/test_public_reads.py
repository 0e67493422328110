"""A public dashboard to a stranger: counts, never who; no invented change after an empty past."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from footfall import connect
from footfall.dashboard.auth import Users
from footfall.event import Event
from footfall.stores.meta import Site, open_meta

from .conftest import PASSWORD, start_server
from .helpers import login

SITE = "pub.example"
USER_IDS = ["alice@example.com", "bob@example.com"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A public site whose only events are from the last hours, two of them by known users."""
    path: Path = tmp_path_factory.mktemp("public") / "footfall.db"
    url = f"sqlite:///{path}"
    store = connect(url)
    open_meta(store).add_site(Site(SITE, "UTC", True))
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    events = []
    for i in range(6):
        ts = now - timedelta(hours=2 + i)
        for page in ("/", "/pricing")[: 1 + i % 2]:  # some visits bounce, some do not
            events.append(
                Event(
                    name="pageview",
                    ts=ts,
                    site=SITE,
                    path=page,
                    visitor_id=f"v{i}",
                    visit_id=f"visit{i}",
                    user_id=USER_IDS[i] if i < len(USER_IDS) else "",
                    country="DE",
                )
            )
            ts += timedelta(seconds=30)
    store.write(events)
    Users(store).add("alice", PASSWORD)
    store.close()
    yield from start_server(url)


@pytest.fixture
def client(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=30) as c:
        yield c


def _data_filters(html: str) -> str:
    match = re.search(r'data-filters="([^"]*)"', html)
    assert match, "dashboard shell has no data-filters"
    return match.group(1)


def test_stranger_dashboard_drops_a_user_id_filter(client: httpx.Client) -> None:
    page = client.get(f"/{SITE}", params={"filters": "visit:user_id==alice;visit:country==DE"})
    assert page.status_code == 200
    assert _data_filters(page.text) == "visit:country==DE"
    assert "log in to filter by people" in page.text
    assert "alice" not in page.text


def test_logged_in_dashboard_keeps_a_user_id_filter(client: httpx.Client) -> None:
    login(client, "alice", PASSWORD)
    page = client.get(f"/{SITE}", params={"filters": "visit:user_id==alice@example.com"})
    assert _data_filters(page.text) == "visit:user_id==alice@example.com"


@pytest.mark.parametrize(
    "params",
    [
        {"endpoint": "breakdown", "property": "visit:user_id"},
        {"endpoint": "breakdown", "property": "event:page", "filters": "visit:user_id~example"},
        {"endpoint": "aggregate", "filters": "visit:user_id==alice@example.com"},
        {"endpoint": "timeseries", "filters": "visit:user_id!=bob@example.com"},
    ],
)
def test_stranger_csv_export_by_user_id_is_refused(
    client: httpx.Client, params: dict[str, str]
) -> None:
    r = client.get(f"/{SITE}/export.csv", params=params)
    assert r.status_code == 401, r.text
    assert "visit:user_id identifies people" in r.text
    assert not [uid for uid in USER_IDS if uid in r.text]


def test_logged_in_csv_export_lists_user_ids(client: httpx.Client) -> None:
    login(client, "alice", PASSWORD)
    r = client.get(f"/{SITE}/export.csv", params={"property": "visit:user_id"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert all(uid in r.text for uid in USER_IDS)


def test_stranger_csv_exports_carry_no_user_id(client: httpx.Client) -> None:
    for prop in ("event:page", "visit:source", "visit:country", "event:name"):
        r = client.get(f"/{SITE}/export.csv", params={"property": prop})
        assert r.status_code == 200, (prop, r.text)
        assert not [uid for uid in USER_IDS if uid in r.text], prop
    r = client.get(
        f"/{SITE}/export.csv", params={"endpoint": "aggregate", "compare": "previous_period"}
    )
    assert r.status_code == 200 and not [uid for uid in USER_IDS if uid in r.text]


# -- top-line changes when the previous period holds nothing -------------------------


def test_aggregate_compare_answers_null_after_an_empty_period(client: httpx.Client) -> None:
    r = client.get(
        "/api/v1/stats/aggregate",
        params={
            "site_id": SITE,
            "period": "7d",
            "metrics": "visitors,visits,pageviews,bounce_rate,visit_duration",
            "compare": "previous_period",
        },
    )
    results = r.json()["results"]
    assert results["visitors"]["value"] == 6 and results["bounce_rate"]["value"] == 50
    assert [entry["change"] for entry in results.values()] == [None] * 5


@pytest.mark.browser
@pytest.mark.slow
def test_topline_shows_new_not_a_made_up_change(server: str) -> None:
    from services import chromium

    with chromium() as browser:
        page: Any = browser.new_page()
        page.set_default_timeout(60_000)
        page.goto(f"{server}/{SITE}?period=7d")
        page.wait_for_function(
            "() => Array.from(document.querySelectorAll('#topline [data-change]'))"
            ".every(c => c.textContent !== '')"
        )
        changes = {
            metric: page.text_content(f"#topline [data-metric={metric}] [data-change]")
            for metric in ("visitors", "visits", "pageviews", "bounce_rate", "visit_duration")
        }
        page.close()
    assert changes == dict.fromkeys(changes, "new"), changes
