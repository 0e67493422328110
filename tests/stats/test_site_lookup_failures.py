"""A store that cannot read its sites or tokens is a 503, never a 401 or a private site."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from footfall import connect
from footfall.server.state import ServerState
from footfall.stats import StatsUnavailable, api, query
from footfall.stores.meta import Site, hash_token, open_meta

SECRET = "ff_lookup_secret"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Any]:
    s = connect(f"sqlite:///{tmp_path / 'lookup.db'}")
    meta = open_meta(s)
    meta.add_site(Site("public.example", "Europe/Berlin", True))
    meta.add_token("t", "public.example", hash_token(SECRET), SECRET[:9])
    yield s
    s.close()


@pytest.fixture
def client(store: Any) -> Iterator[TestClient]:
    state = ServerState(store=store, tracker=None, db_url=store.url)  # type: ignore[arg-type]
    with TestClient(Starlette(routes=api.routes(state))) as c:
        yield c


def _break(store: Any, table: str) -> None:
    """A real database failure: the table the lookup reads is gone."""
    with store.transaction() as conn:
        conn.execute(f"ALTER TABLE {table} RENAME TO {table}_gone")


def _aggregate(client: TestClient, headers: dict[str, str] | None = None) -> Any:
    return client.get(
        "/api/v1/stats/aggregate", params={"site_id": "public.example"}, headers=headers or {}
    )


def test_readable_while_the_store_answers(client: TestClient) -> None:
    assert _aggregate(client).status_code == 200
    assert _aggregate(client, {"Authorization": f"Bearer {SECRET}"}).status_code == 200


def test_a_failing_sites_table_is_a_503_not_a_private_site(
    client: TestClient, store: Any, caplog: pytest.LogCaptureFixture
) -> None:
    _break(store, "sites")
    with caplog.at_level(logging.WARNING, logger="footfall.stats"):
        r = _aggregate(client)
    assert r.status_code == 503, r.text
    assert "site's settings" in r.json()["error"]
    assert any("could not read the site's settings" in m for m in caplog.messages)


def test_a_failing_tokens_table_is_a_503_not_an_invalid_token(
    client: TestClient, store: Any, caplog: pytest.LogCaptureFixture
) -> None:
    _break(store, "api_tokens")
    with caplog.at_level(logging.WARNING, logger="footfall.stats"):
        r = _aggregate(client, {"Authorization": f"Bearer {SECRET}"})
    assert r.status_code == 503, r.text
    assert "API tokens" in r.json()["error"]
    assert any("could not read the API tokens" in m for m in caplog.messages)


def test_the_python_api_does_not_fall_back_to_utc(store: Any) -> None:
    _break(store, "sites")
    with pytest.raises(StatsUnavailable):
        query(store, "public.example")
