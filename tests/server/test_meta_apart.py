"""Events in ClickHouse, metadata in PostgreSQL: the server answers as on SQLite.

The single-server layout `footfall serve --db clickhouse://... --meta
postgresql://...`: sites, a token and a dashboard user are made with the CLI
(`--meta`), the data set of tests/stats/dataset.py is written to ClickHouse,
and every answer of the stats API, the funnel, realtime and the dashboard's
CSV export must equal the answer of a SQLite server over the same events.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.testclient import TestClient
from tests.stats.dataset import TZ, TZ_SITE, UTC_SITE, build
from tests.stores.backends import clickhouse_store, postgres_store
from tests.stores.test_stats_backends import ALL_METRICS, CUSTOM, FILTERS, _fill

from footfall import connect
from footfall.cli import main
from footfall.dashboard.auth import Users
from footfall.dashboard.security import SESSION_COOKIE
from footfall.server.app import create_app
from footfall.server.state import ServerState
from footfall.sites import add_site, create_token
from footfall.stats import api
from footfall.stats.properties import EVENT_PROPS, VISIT_PROPS
from footfall.stores import Store
from footfall.stores.meta import open_meta


def _cli(*args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def _setup_meta(db: str, meta: str | None) -> str:
    """Sites, a token and a dashboard user, made with the CLI; returns the token."""
    where = ["--db", db, *(["--meta", meta] if meta else [])]
    _cli("sites", "add", UTC_SITE, *where)
    _cli("sites", "add", TZ_SITE, "--timezone", TZ, *where)
    _cli("users", "add", "ann", "--password-stdin", *where, stdin="correct horse\n")
    return _cli("token", "create", "--name", "stats", *where).strip().splitlines()[-1]


class Server:
    """One running app and its token; `full`: the whole server (with a logged-in
    dashboard session), else the stats API only."""

    def __init__(self, app: Any, token: str, full: bool) -> None:
        self.app, self.token, self.full = app, token, full
        self.client = TestClient(app)
        self.client.__enter__()

    @classmethod
    def serve(cls, db: str, meta: str | None) -> Server:
        """The app of `footfall serve --db db --meta meta`, set up through the CLI."""
        token = _setup_meta(db, meta)
        server = cls(create_app(db, meta_url=meta), token, full=True)
        users = Users(server.app.state.footfall.store)
        server.client.cookies.set(SESSION_COOKIE, users.start_session("ann"))
        return server

    @classmethod
    def stats_api(cls, events: Any, meta: Store) -> Server:
        """The stats API over `events` (not a `Store`: chDB's stand-in) with `meta`
        attached as its metadata store, as `Store.attach_meta` does."""
        events.meta_store = meta
        add_site(meta, UTC_SITE)
        add_site(meta, TZ_SITE, TZ)
        _, token = create_token(meta, "stats", None)
        state = ServerState(store=events, tracker=None, db_url=events.url)  # type: ignore[arg-type]
        return cls(Starlette(routes=api.routes(state)), token, full=False)

    def api(self, path: str, **params: Any) -> Any:
        r = self.client.get(
            f"/api/v1/stats/{path}",
            params=params,
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert r.status_code == 200, r.text
        return r.json()

    def close(self) -> None:
        self.client.__exit__(None, None, None)


def _chdb(path: Path) -> Any:
    """chDB (current ClickHouse, in process): events only, as a ClickHouse store."""
    pytest.importorskip("chdb", reason="chdb is a dev dependency")
    from tests.stores.chdb_store import ChdbStore

    return ChdbStore(path)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    ref_url = f"sqlite:///{tmp_path_factory.mktemp('ref') / 'ref.db'}"
    with connect(ref_url) as ref:
        _fill(ref, build())
    server = Server.serve(ref_url, None)
    yield server
    server.close()


@pytest.fixture(scope="module", params=["clickhouse", "clickhouse-chdb"])
def split(request: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    pg = postgres_store(tmp_path_factory.mktemp("pg"))  # its schema is dropped on close
    if request.param == "clickhouse":
        ch = clickhouse_store(tmp_path_factory.mktemp("ch"))  # its database is dropped on close
        _fill(ch, build())
        server = Server.serve(ch.url, pg.url)
    else:
        ch = _chdb(tmp_path_factory.mktemp("chdb") / "db")
        _fill(ch, build())
        server = Server.stats_api(ch, pg)
    yield server
    server.close()
    ch.close()
    pg.close()


@pytest.fixture
def servers(reference: Server, split: Server) -> tuple[Server, Server]:
    return reference, split


def test_metadata_live_in_the_meta_store(servers: tuple[Server, Server]) -> None:
    _, split = servers
    if not split.full:
        pytest.skip("this layout serves the stats API only")
    store = split.app.state.footfall.store
    assert store.dialect == "clickhouse" and store.meta_home().dialect == "postgres"
    assert {s.domain for s in open_meta(store).list_sites()} == {UTC_SITE, TZ_SITE}
    assert Users(store).names() == ["ann"]


def _same(servers: tuple[Server, Server], path: str, **params: Any) -> Any:
    reference, split = servers
    params.setdefault("period", "custom")
    params.setdefault("date", CUSTOM)
    want = reference.api(path, **params)
    assert split.api(path, **params) == want
    return want


@pytest.mark.parametrize("filters", FILTERS)
@pytest.mark.parametrize("site", [UTC_SITE, TZ_SITE])
def test_aggregate_answers_agree(servers: tuple[Server, Server], site: str, filters: str) -> None:
    want = _same(servers, "aggregate", site_id=site, metrics=ALL_METRICS, filters=filters)
    assert want["results"]["visitors"]["value"] > 0


@pytest.mark.parametrize("interval", ["date", "week", "month"])
@pytest.mark.parametrize("site", [UTC_SITE, TZ_SITE])
def test_series_agree(servers: tuple[Server, Server], site: str, interval: str) -> None:
    want = _same(servers, "timeseries", site_id=site, metrics=ALL_METRICS, interval=interval)
    assert sum(row["visitors"] for row in want["results"]) > 0


@pytest.mark.parametrize("prop", [*EVENT_PROPS, *VISIT_PROPS, "event:props:plan"])
def test_breakdowns_agree(servers: tuple[Server, Server], prop: str) -> None:
    metrics = "visitors,pageviews,events" if prop.startswith("event:") else ALL_METRICS
    _same(servers, "breakdown", site_id=TZ_SITE, metrics=metrics, property=prop, limit=100)


def test_funnel_and_realtime_agree(servers: tuple[Server, Server]) -> None:
    steps = ["event:page==/", "event:page==/pricing", "event:name==Signup"]
    want = _same(servers, "funnel", site_id=UTC_SITE, step=steps)
    assert want["results"]["entering_visitors"] > 0
    _same(servers, "realtime/visitors", site_id=UTC_SITE)
    _same(servers, "realtime/pages", site_id=UTC_SITE)


def test_dashboard_and_csv_exports_agree(servers: tuple[Server, Server]) -> None:
    reference, split = servers
    if not split.full:
        pytest.skip("this layout serves the stats API only")
    query = {"period": "custom", "date": CUSTOM, "property": "visit:source"}
    for server in servers:
        assert server.client.get(f"/{TZ_SITE}", params=query).status_code == 200
    for endpoint in ("breakdown", "timeseries", "aggregate"):
        params = {**query, "endpoint": endpoint}
        want = reference.client.get(f"/{TZ_SITE}/export.csv", params=params)
        got = split.client.get(f"/{TZ_SITE}/export.csv", params=params)
        assert want.status_code == 200 and got.text == want.text and want.text.count("\n") > 1


def test_clickhouse_without_meta_stops_at_start(tmp_path: Path) -> None:
    ch = clickhouse_store(tmp_path / "ch")
    pg = postgres_store(tmp_path / "pg")
    try:
        for args in (["sites", "list"], ["serve"], ["stats", "--site", UTC_SITE]):
            result = CliRunner().invoke(main, [*args, "--db", ch.url])
            assert result.exit_code == 1 and "--meta" in result.output, result.output
        # $FOOTFALL_META_DB stands for --meta
        env = {"FOOTFALL_META_DB": pg.url}
        added = CliRunner().invoke(main, ["sites", "add", UTC_SITE, "--db", ch.url], env=env)
        assert added.exit_code == 0, added.output
        assert [s.domain for s in open_meta(pg).list_sites()] == [UTC_SITE]
    finally:
        ch.close()
        pg.close()
