"""Each alert kind's query on SQLite, PostgreSQL, ClickHouse 18.16 and current ClickHouse (chDB).

The same events go to every store; each kind must fire on the same subjects
with the same values at `NOW` and on none at `LATER`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.reports.alert_data import LATER, NOW, build
from tests.stores.backends import clickhouse_store, postgres_store

from footfall import connect
from footfall.reports.alert_rules import Measurement, describe, measure, parse_window
from footfall.stores.meta_records import AlertRule


def _sqlite(tmp_path: Path) -> Any:
    return connect(f"sqlite:///{tmp_path / 'alerts.db'}")


def _chdb(tmp_path: Path) -> Any:
    pytest.importorskip("chdb", reason="chdb is a dev dependency")
    pytest.importorskip("clickhouse_driver", reason="pip install footfall[clickhouse]")
    from tests.stores.chdb_store import ChdbStore

    return ChdbStore(tmp_path / "chdb")


BACKENDS = {
    "sqlite": _sqlite,
    "postgres": postgres_store,
    "clickhouse": clickhouse_store,
    "clickhouse-chdb": _chdb,
}

SPIKE = AlertRule("spike.test", "spike", 3)
DROP = AlertRule("drop.test", "drop", 50, min_requests=10)
ERRORS = AlertRule("errors.test", "errors", 5, window_seconds=900, min_requests=20)
SLOW = AlertRule("slow.test", "slow", 800, window_seconds=900, min_requests=20)
# percentile_cont(0.95) of 1000..1024 ms
SLOW_P95 = 1000 + 0.95 * 24


@pytest.fixture(scope="module", params=sorted(BACKENDS))
def store(request: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    s = BACKENDS[request.param](tmp_path_factory.mktemp(request.param))
    events = build()
    for i in range(0, len(events), 50):
        s.write(events[i : i + 50])
    yield s
    s.close()


def test_each_kind_fires_at_now(store: Any) -> None:
    assert measure(store, SPIKE, NOW) == Measurement({"": 5.0}, 5.0)
    assert measure(store, DROP, NOW) == Measurement({"": 25.0}, 25.0)
    assert measure(store, ERRORS, NOW) == Measurement({"/api/a": 20.0})
    slow = measure(store, SLOW, NOW)
    assert list(slow.firing) == ["/slow"]
    assert slow.firing["/slow"] == pytest.approx(SLOW_P95)


def test_nothing_fires_later(store: Any) -> None:
    assert measure(store, SPIKE, LATER) == Measurement({}, 0.0)
    assert measure(store, DROP, LATER) == Measurement({}, 100.0)
    assert measure(store, ERRORS, LATER) == Measurement()
    assert measure(store, SLOW, LATER) == Measurement()


def test_thresholds_and_minimums(store: Any) -> None:
    # At the threshold is not above it; the minimum keeps 2 of 2 failing quiet.
    assert measure(store, AlertRule("spike.test", "spike", 5), NOW).firing == {}
    assert measure(store, AlertRule("errors.test", "errors", 20, 900, 20), NOW).firing == {}
    few = AlertRule("errors.test", "errors", 5, window_seconds=900, min_requests=2)
    assert measure(store, few, NOW).firing == {"/api/a": 20.0, "/api/b": 100.0}
    # Too little traffic a week before: a drop cannot be told.
    assert measure(store, AlertRule("drop.test", "drop", 50, min_requests=21), NOW) == Measurement()
    # A window that ends before the slow requests sees none of them.
    short = AlertRule("slow.test", "slow", 800, window_seconds=60, min_requests=20)
    assert measure(store, short, NOW).firing == {}
    assert measure(store, AlertRule("slow.test", "slow", 800, 900, 26), NOW).firing == {}


def test_windows_and_descriptions() -> None:
    assert [parse_window(t) for t in ("5m", "15m", "1h", "90s", "10")] == [300, 900, 3600, 90, 600]
    for bad in ("", "5x", "0m", "30s", "25h", "-5m"):
        with pytest.raises(ValueError):
            parse_window(bad)
    assert describe(SPIKE) == "current visitors above 3"
    assert describe(ERRORS).startswith("5xx responses above 5% of a path's requests over 15m")
    assert "p95" in describe(SLOW)
