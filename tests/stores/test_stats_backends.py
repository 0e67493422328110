"""The stats engine on PostgreSQL and ClickHouse agrees with SQLite on every number.

The stats suite (tests/stats) checks SQLite's answers against a plain-Python
reference; here the same data set is written to SQLite and to each server
store, and every query (aggregate with each filter, every breakdown
property, every interval, both time zones) must give identical answers from
the raw-SQL engine on both. The store is session-scoped: the data set is
written once per backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.stats.dataset import DAYS, START, TZ, TZ_SITE, UTC_SITE, build
from tests.stores.backends import clickhouse_cluster_store, clickhouse_store, postgres_store

from footfall import connect, stats
from footfall.stats.properties import EVENT_PROPS, VISIT_PROPS


def chdb_store(tmp_path: Path) -> Any:
    pytest.importorskip("chdb", reason="chdb is a dev dependency")
    pytest.importorskip("clickhouse_driver", reason="pip install footfall[clickhouse]")
    from tests.stores.chdb_store import ChdbStore

    return ChdbStore(tmp_path / "chdb")


def chdb_cluster_store(tmp_path: Path) -> Any:
    """chDB with the cluster schema: every read and write through Distributed tables."""
    pytest.importorskip("chdb", reason="chdb is a dev dependency")
    pytest.importorskip("clickhouse_driver", reason="pip install footfall[clickhouse]")
    from tests.stores.chdb_store import ChdbStore

    return ChdbStore(tmp_path / "chdb", cluster=True)


CUSTOM = f"{START},{START + timedelta(days=DAYS - 1)}"
REQUEST_METRICS = "requests,bytes,duration_p50,duration_p95,error_rate"
FILTERS = [
    "",
    "visit:country==DE",
    "visit:device==mobile",
    "visit:source==Google",
    "visit:source==Direct / None",
    "visit:browser==Chrome|Firefox",
    "visit:country!=US",
    "visit:entry_page==/pricing",
    "visit:exit_page==/blog/**",
    "visit:utm_campaign==launch",
    "visit:user_id==user1",
    "visit:city~Franc",
    "event:page==/blog/**",
    "event:page==/blog/*",
    "event:page!=/",
    "event:name==Signup",
    "event:props:plan==pro",
    "event:hostname~.test",
    "visit:country!=US;event:page~blog",
    "visit:country==DE;visit:device==desktop",
]
ALL_METRICS = "visitors,visits,pageviews,events,views_per_visit,bounce_rate,visit_duration"
SITES = [(UTC_SITE, "UTC"), (TZ_SITE, TZ)]
# ClickHouse twice: Debian's 18.16 server, and current ClickHouse in process
# (chDB) - the same SQL must run, and agree, on both; and twice more through
# the Distributed tables of `?cluster=`: a two-shard 18.16 cluster, and chDB
# as a one-shard cluster of itself.
BACKENDS = {
    "postgres": postgres_store,
    "clickhouse": clickhouse_store,
    "clickhouse-chdb": chdb_store,
    "clickhouse-cluster": clickhouse_cluster_store,
    "clickhouse-chdb-cluster": chdb_cluster_store,
}


@pytest.fixture(scope="module")
def dataset() -> list[Any]:
    return build()


def _fill(store: Any, events: list[Any]) -> Any:
    for i in range(0, len(events), 37):
        store.write(events[i : i + 37])
    store.write(events[100:180])  # a retried batch: must not count twice
    return store


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, dataset: list[Any]) -> Iterator[Any]:
    store = connect(f"sqlite:///{tmp_path_factory.mktemp('ref') / 'ref.db'}")
    yield _fill(store, dataset)
    store.close()


@pytest.fixture(scope="module", params=sorted(BACKENDS))
def server(
    request: Any, tmp_path_factory: pytest.TempPathFactory, dataset: list[Any]
) -> Iterator[Any]:
    store = BACKENDS[request.param](tmp_path_factory.mktemp(request.param))
    yield _fill(store, dataset)
    store.close()


def _both(reference: Any, server: Any, **params: Any) -> tuple[Any, Any]:
    params.setdefault("period", "custom")
    params.setdefault("date", CUSTOM)
    params["engine"] = "raw"
    return stats.query(reference, **params), stats.query(server, **params)


@pytest.mark.parametrize("filters", FILTERS)
@pytest.mark.parametrize(("site", "tz"), SITES)
def test_aggregate_agrees(reference: Any, server: Any, site: str, tz: str, filters: str) -> None:
    want, got = _both(reference, server, site=site, tz=tz, metrics=ALL_METRICS, filters=filters)
    assert got == want
    assert want["visitors"] > 0


def test_request_metrics_agree(reference: Any, server: Any) -> None:
    want, got = _both(reference, server, site=UTC_SITE, tz="UTC", metrics=REQUEST_METRICS)
    assert got == want and want["requests"] > 0


@pytest.mark.parametrize("interval", ["hour", "date", "week", "month"])
@pytest.mark.parametrize(("site", "tz"), SITES)
def test_timeseries_agrees(reference: Any, server: Any, site: str, tz: str, interval: str) -> None:
    period = {"period": "7d", "date": "2026-10-27"} if interval == "hour" else {}
    want, got = _both(
        reference, server, kind="timeseries", site=site, tz=tz, metrics=ALL_METRICS,
        interval=interval, **period,
    )  # fmt: skip
    assert got == want
    assert sum(row["visitors"] for row in want) > 0


@pytest.mark.parametrize("prop", [*EVENT_PROPS, *VISIT_PROPS, "event:props:plan"])
@pytest.mark.parametrize(("site", "tz"), SITES)
def test_breakdown_agrees(reference: Any, server: Any, site: str, tz: str, prop: str) -> None:
    metrics = "visitors,pageviews,events" if prop.startswith("event:") else ALL_METRICS
    want, got = _both(
        reference, server, kind="breakdown", site=site, tz=tz, metrics=metrics,
        property=prop, limit=100,
    )  # fmt: skip
    assert got == want


def test_goal_conversions_agree(reference: Any, server: Any) -> None:
    for goal in ("Signup", "Visit /pricing", "Visit /blog/**"):
        want, got = _both(
            reference, server, site=UTC_SITE, tz="UTC", metrics="visitors,conversion_rate",
            filters=f"event:goal=={goal}",
        )  # fmt: skip
        assert got == want and want["visitors"] > 0


@pytest.mark.parametrize("at", [0.1, 0.5, 0.9])
def test_realtime_agrees(reference: Any, server: Any, dataset: list[Any], at: float) -> None:
    # "now" just after an event of the data set: its last 5 minutes are not empty
    stamps = sorted(e.ts for e in dataset if not e.is_bot and e.name == "pageview")
    now = stamps[int(len(stamps) * at)] + timedelta(minutes=1)
    for site in (UTC_SITE, TZ_SITE):
        want = stats.realtime_visitors(reference, site, now)
        assert stats.realtime_visitors(server, site, now) == want
        pages = stats.current_pages(reference, site, now, limit=20)
        assert stats.current_pages(server, site, now, limit=20) == pages
        assert want > 0 and pages


def test_funnel_agrees(reference: Any, server: Any) -> None:
    from footfall.stats.model import build_query

    q = build_query(UTC_SITE, period="custom", date=CUSTOM, tz="UTC")
    steps = ["event:page==/", "event:page==/pricing", "event:name==Signup"]
    want = stats.funnel(reference, q, steps)
    assert stats.funnel(server, q, steps) == want
    assert want["entering_visitors"] > 0


JSON_CASES = [
    '{"plan":"pro"}',
    '{"plan":"a\\"b"}',
    '{"plan":true}',
    '{"plan":false}',
    '{"plan":null}',
    '{"plan":3}',
    '{"plan":2.5}',
    '{"plan":[1,"x"]}',
    '{"plan":{"tier":"gold"}}',
    '{"other":"x"}',
    "{}",
]


@pytest.mark.parametrize("text", JSON_CASES)
def test_props_text_agrees(server: Any, text: str) -> None:
    """event:props:<key> renders each JSON type as SQLite's CAST(json_extract(..) AS TEXT)."""
    import sqlite3

    from footfall.stats.dialect import Params, SQLiteDialect
    from footfall.stats.engine import dialect_for

    lite = SQLiteDialect()
    lp = Params(lite)
    sql = f"SELECT {lite.json_text('?', 'plan', lp)}"
    want = sqlite3.connect(":memory:").execute(sql, [text, *lp.values]).fetchone()[0]
    d = dialect_for(server)
    p = Params(d)
    expr = d.json_text("t.props", "plan", p)
    source = p.add(text) + ("::jsonb" if d.name == "postgres" else "")
    got = server.query(f"SELECT {expr} FROM (SELECT {source} AS props) t", p.values)
    assert got[0][0] == want


def test_backends_registered(tmp_path: Path) -> None:
    assert set(BACKENDS) == {
        "postgres",
        "clickhouse",
        "clickhouse-chdb",
        "clickhouse-cluster",
        "clickhouse-chdb-cluster",
    }
