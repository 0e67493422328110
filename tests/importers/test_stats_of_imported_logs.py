"""An imported log's numbers, as the stats API gives them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from footfall.processors.geo import GeoProcessor
from footfall.server.app import create_app
from footfall.sites import add_site, create_token

from .conftest import (
    ALICE,
    BOB,
    CAROL,
    HUMAN_PAGEVIEWS,
    PAGEVIEWS_BY_PATH,
    SITE,
    VISITORS,
    VISITS,
    run_import,
    write_log,
)


def test_the_stats_api_counts_the_imported_page_views_visitors_and_visits(
    tmp_path: Path, db: str, store_of: Any
) -> None:
    log = write_log(tmp_path / "access.log.gz", "vhost_combined")
    result = run_import(str(log), "--db", db, "--format", "vhost_combined")
    assert result.exit_code == 0, result.output
    assert f"stats summaries: {HUMAN_PAGEVIEWS} events folded" in result.stderr
    store = store_of(db)
    add_site(store, SITE)
    _, token = create_token(store, "reader", SITE)
    auth = {"Authorization": f"Bearer {token}"}
    day = {"site_id": SITE, "period": "day", "date": "2026-03-02"}
    with TestClient(create_app(db)) as client:
        metrics = "visitors,visits,pageviews,bounce_rate,views_per_visit"
        totals = client.get(
            "/api/v1/stats/aggregate", params={**day, "metrics": metrics}, headers=auth
        )
        assert totals.status_code == 200, totals.text
        # Alice: 4 pages then 1 after lunch; Bob: 2; Carol: 1 (her other requests are not pages).
        assert totals.json()["results"] == {
            "visitors": {"value": VISITORS},
            "visits": {"value": VISITS},
            "pageviews": {"value": HUMAN_PAGEVIEWS},
            "bounce_rate": {"value": 50},
            "views_per_visit": {"value": 2.0},
        }
        pages = client.get(
            "/api/v1/stats/breakdown",
            params={**day, "property": "event:page", "metrics": "pageviews"},
            headers=auth,
        ).json()["results"]
        assert {p["page"]: p["pageviews"] for p in pages} == PAGEVIEWS_BY_PATH
        countries = client.get(
            "/api/v1/stats/breakdown",
            params={**day, "property": "visit:country", "metrics": "visitors"},
            headers=auth,
        ).json()["results"]
    geo = GeoProcessor()
    expected: dict[str, int] = {}
    for ip in (ALICE, BOB, CAROL):
        country = geo.lookup(ip).country
        expected[country] = expected.get(country, 0) + 1
    assert {c["country"]: c["visitors"] for c in countries} == expected
