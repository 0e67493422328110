"""A token holder who names a site that does not exist is told so: 404 "unknown site"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from footfall import connect
from footfall.event import Event
from footfall.server.state import ServerState
from footfall.stats import api
from footfall.stores.meta import Site, hash_token, open_meta

EVERY_SITE = "ff_every_site_secret"
ONE_SITE = "ff_one_site_secret"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Any]:
    s = connect(f"sqlite:///{tmp_path / 'unknown.db'}")
    meta = open_meta(s)
    meta.add_site(Site("registered.example"))
    meta.add_token("all", "", hash_token(EVERY_SITE), EVERY_SITE[:9])
    meta.add_token("one", "registered.example", hash_token(ONE_SITE), ONE_SITE[:9])
    # Tracked in-process without registering: it has stats all the same.
    s.write([Event(name="pageview", site="tracked.example", path="/", visitor_id="v")])
    yield s
    s.close()


@pytest.fixture
def client(store: Any) -> Iterator[TestClient]:
    state = ServerState(store=store, tracker=None, db_url=store.url)  # type: ignore[arg-type]
    with TestClient(Starlette(routes=api.routes(state))) as c:
        yield c


def _aggregate(client: TestClient, site: str, secret: str | None) -> Any:
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    return client.get("/api/v1/stats/aggregate", params={"site_id": site}, headers=headers)


@pytest.mark.parametrize("secret", [EVERY_SITE, ONE_SITE])
def test_a_token_holder_naming_an_unknown_site_gets_404(client: TestClient, secret: str) -> None:
    r = _aggregate(client, "nosuch.example", secret)
    assert r.status_code == 404, r.text
    assert "unknown site 'nosuch.example'" in r.json()["error"]


def test_a_site_with_events_or_a_registration_is_known(client: TestClient) -> None:
    tracked = _aggregate(client, "tracked.example", EVERY_SITE)
    assert tracked.status_code == 200 and tracked.json()["results"]["visitors"]["value"] == 1
    assert _aggregate(client, "registered.example", EVERY_SITE).status_code == 200
    assert _aggregate(client, "registered.example", ONE_SITE).status_code == 200
    assert _aggregate(client, "tracked.example", ONE_SITE).status_code == 403


def test_an_anonymous_reader_learns_no_site_names(client: TestClient) -> None:
    assert _aggregate(client, "nosuch.example", None).status_code == 401
    assert _aggregate(client, "tracked.example", None).status_code == 401


def test_a_failing_events_table_is_a_503_not_an_unknown_site(
    client: TestClient, store: Any
) -> None:
    with store.transaction() as conn:
        conn.execute("ALTER TABLE events RENAME TO events_gone")
    r = _aggregate(client, "nosuch.example", EVERY_SITE)
    assert r.status_code == 503, r.text
    assert "site's events" in r.json()["error"]
