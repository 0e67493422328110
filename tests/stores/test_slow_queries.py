"""Wildcards and time budgets on every store: SQLite, PostgreSQL and ClickHouse.

- The same wildcard filters, goals and funnel steps select the same pages on
  every store, and exactly the pages the documented rule selects (`*` within
  a segment, `**` across), GLOB's and LIKE's own metacharacters included.
- A planted 200-character path and `/**a**a**a**a**a**b` answer like any
  other filter (a backtracking regex per row takes minutes on it, holding
  SQLite's caller and its GIL). The timeout marks are hang guards, not
  measurements: the query takes milliseconds.
- A query over its time budget is stopped by the database itself and raises
  `QueryTimeout`, and the connection answers the next query.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from tests.stores.backends import clickhouse_store, postgres_store

from footfall import connect, stats
from footfall.event import Event
from footfall.stats.model import build_query
from footfall.stores.budget import QueryTimeout, time_budget

SITE = "wild.test"
DAY = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)
PERIOD = {"period": "custom", "date": "2026-11-19,2026-11-21"}
LONG = "/" + "a" * 199  # the planted path: 200 characters, no `b`
PATHS = [
    "/",
    "/blog",
    "/blog/",
    "/blog/a",
    "/blog/a/b",
    "/de/docs/install",
    "/a/b/docs/install",
    "/a/b/c.html",
    "/a/b.html/c",
    "/[x]?/y",
    "/x/y",
    "/100%_off",
    "/100xyoff",
    "/q\\x/y",
    "/q\\x",
    LONG,
    LONG[:-1] + "b",
]
PATTERNS = [
    "/blog/*",
    "/blog/**",
    "/*",
    "/*/*",
    "**",
    "/*/docs/**",
    "/**/*.html",
    "/**/c*",
    "/[x]?/*",
    "/100%_*",
    "/q\\*",
    "/q\\x/**",
    "/**a**a**a**a**a**b",
    "/*a*a*a*a*a*b",
]


def sqlite_store(tmp_path: Path) -> Any:
    return connect(f"sqlite:///{tmp_path / 'wild.db'}")


def chdb_store(tmp_path: Path) -> Any:
    pytest.importorskip("chdb", reason="chdb is a dev dependency")
    pytest.importorskip("clickhouse_driver", reason="pip install footfall[clickhouse]")
    from tests.stores.chdb_store import ChdbStore

    return ChdbStore(tmp_path / "chdb")


# chDB runs current ClickHouse in process, without the server's settings: it
# checks the SQL, not the time budget.
BUDGETED: dict[str, Callable[[Path], Any]] = {
    "sqlite": sqlite_store,
    "postgres": postgres_store,
    "clickhouse": clickhouse_store,
}
BACKENDS: dict[str, Callable[[Path], Any]] = {**BUDGETED, "clickhouse-chdb": chdb_store}


def rule(pattern: str) -> re.Pattern[str]:
    out = []
    for i, part in enumerate(pattern.split("**")):
        if i:
            out.append(".*")
        out.append("[^/]*".join(re.escape(p) for p in part.split("*")))
    return re.compile("^" + "".join(out) + r"\Z", re.DOTALL)


def expected(pattern: str) -> set[str]:
    # The backtracking rule takes minutes on the planted path: it matches no
    # pattern ending in `b` (it has none), and the rule decides every other path.
    return {p for p in PATHS if (p != LONG or not pattern.endswith("b")) and rule(pattern).match(p)}


def _events() -> list[Event]:
    """One visit per path: a page view of it, then a `Signup` event."""
    out = []
    for i, path in enumerate(PATHS):
        ts = DAY + timedelta(minutes=i)
        visit = {"site": SITE, "visitor_id": f"v{i}", "visit_id": f"s{i}"}
        out.append(Event(name="pageview", path=path, ts=ts, **visit))
        out.append(Event(name="Signup", path=path, ts=ts + timedelta(seconds=1), **visit))
    return out


@pytest.fixture(scope="module", params=sorted(BACKENDS))
def store(request: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    s = BACKENDS[request.param](tmp_path_factory.mktemp(request.param))
    s.write(_events())
    yield s
    s.close()


def pages(store: Any, filters: str) -> set[str]:
    rows = stats.query(
        store, SITE, kind="breakdown", property="event:page", filters=filters,
        metrics="visitors", limit=1000, engine="raw", **PERIOD,
    )  # fmt: skip
    return {row["page"] for row in rows}


def entry_pages(store: Any, filters: str) -> set[str]:
    rows = stats.query(
        store, SITE, kind="breakdown", property="visit:entry_page", filters=filters,
        metrics="visits", limit=1000, engine="raw", **PERIOD,
    )  # fmt: skip
    return {row["entry_page"] for row in rows}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("pattern", PATTERNS)
def test_event_page_wildcards(store: Any, pattern: str) -> None:
    assert pages(store, f"event:page=={pattern}") == expected(pattern)
    assert pages(store, f"event:page!={pattern}") == set(PATHS) - expected(pattern)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("pattern", PATTERNS)
def test_entry_page_wildcards(store: Any, pattern: str) -> None:
    assert entry_pages(store, f"visit:entry_page=={pattern}") == expected(pattern)
    assert entry_pages(store, f"visit:exit_page!={pattern}") == set(PATHS) - expected(pattern)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("pattern", ["/blog/**", "/*/docs/**", "/**a**a**a**a**a**b"])
def test_page_goal_wildcards(store: Any, pattern: str) -> None:
    got = stats.query(
        store, SITE, filters=f"event:goal==Visit {pattern}", metrics="visitors,conversion_rate",
        engine="raw", **PERIOD,
    )  # fmt: skip
    assert got["visitors"] == len(expected(pattern))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("pattern", ["/**/*.html", "/**a**a**a**a**a**b"])
def test_funnel_step_wildcards(store: Any, pattern: str) -> None:
    q = build_query(SITE, **PERIOD)
    got = stats.funnel(store, q, [f"event:page=={pattern}", "event:name==Signup"])
    reached = len(expected(pattern))
    assert [s["visitors"] for s in got["steps"]] == [reached, reached]


# -- time budgets -------------------------------------------------------------

# A query that would run for minutes (or for ever) on each store.
ENDLESS = {
    "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n)"
    " SELECT count(*) FROM n",
    "postgres": "SELECT pg_sleep(600)",
    "clickhouse": "SELECT count() FROM system.numbers",
}


@pytest.fixture(params=sorted(BUDGETED))
def budgeted(request: Any, tmp_path: Path) -> Iterator[tuple[str, Any]]:
    s = BUDGETED[request.param](tmp_path)
    yield request.param, s
    s.close()


@pytest.mark.timeout(60)
def test_query_over_budget_is_stopped_by_the_database(budgeted: tuple[str, Any]) -> None:
    name, store = budgeted
    with time_budget(1.0), pytest.raises(QueryTimeout) as info:
        store.query(ENDLESS[name])
    assert "1 s time budget" in str(info.value)
    assert store.query("SELECT 1")[0][0] == 1  # the connection is usable, without a limit


def test_stats_query_with_no_budget_left_raises_query_timeout(budgeted: tuple[str, Any]) -> None:
    _, store = budgeted
    store.write(_events())
    with time_budget(1e-9), pytest.raises(QueryTimeout):
        stats.query(store, SITE, metrics="visitors,visits", engine="raw", **PERIOD)
    assert stats.query(store, SITE, metrics="visitors", engine="raw", **PERIOD) == {
        "visitors": len(PATHS)
    }
