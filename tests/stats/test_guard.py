"""Slow stats queries cannot stall the server.

- A real server (uvicorn, SQLite) answers `/health` and ingestion while the
  worst wildcard funnel runs over a planted 200-character path: the health
  answer itself reports the stats query as running. (Matched by a
  backtracking regex per row, that query holds the GIL for minutes.)
- A request over its time budget answers 503 with the reason, not a 500.
- Beyond the concurrency bound a request waits briefly, then gets 503 with
  Retry-After; the stats work runs in a worker thread inside the budget.

No timing thresholds: order and completion decide, with bounded waits.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from tests.collector.live_server import LiveServer, start_server

from footfall import connect
from footfall.event import Event
from footfall.server.state import ServerState
from footfall.sites import add_site
from footfall.stats import api
from footfall.stats.guard import Busy, QueryGuard, StatsLimits, guard_for
from footfall.stores import budget

PUBLIC = "public.test"
LONG = "/" + "a" * 199
WORST = "/**a**a**a**a**a**b"
EVENTS = 100_000  # enough that the funnel runs for a good while, in seconds of setup


def _events() -> Iterator[Event]:
    start = datetime.now(timezone.utc) - timedelta(days=2)
    yield Event(name="pageview", site=PUBLIC, path=LONG, visitor_id="v", visit_id="s", ts=start)
    for i in range(EVENTS):
        yield Event(
            name="pageview",
            site=PUBLIC,
            path=f"/p/{i % 300}/a" if i % 7 else LONG,
            visitor_id=f"v{i % 3000}",
            visit_id=f"s{i // 5}",
            ts=start + timedelta(seconds=i),
        )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    db_url = f"sqlite:///{tmp_path_factory.mktemp('guard') / 'guard.db'}"
    store = connect(db_url)
    add_site(store, PUBLIC, public=True)
    batch: list[Event] = []
    for event in _events():
        batch.append(event)
        if len(batch) == 10_000:
            store.write(batch)
            batch = []
    store.write(batch)
    store.close()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("FOOTFALL_CATCHUP_SECONDS", "0")  # no background folding meanwhile
        live = start_server(db_url, PUBLIC)
    yield live
    live.stop()


@pytest.mark.timeout(120)
def test_health_and_ingestion_answer_while_the_worst_funnel_runs(server: LiveServer) -> None:
    answers: list[httpx.Response] = []

    def worst_funnel() -> None:
        steps = [f"event:page=={WORST}", "event:page==/**", "event:page==/p/*/a"]
        with httpx.Client(base_url=server.url, timeout=90) as c:
            answers.append(
                c.get(
                    "/api/v1/stats/funnel",
                    params={"site_id": PUBLIC, "period": "7d", "step": steps},
                )
            )

    query = threading.Thread(target=worst_funnel, daemon=True)
    seen_running: list[dict[str, Any]] = []
    ingested: list[int] = []
    with httpx.Client(base_url=server.url, timeout=90) as c:
        query.start()
        while query.is_alive() and len(seen_running) < 2:
            health = c.get("/health")
            assert health.status_code == 200
            if health.json()["stats_queries"]["running"] >= 1:
                seen_running.append(health.json())
                if len(seen_running) == 1:  # between two answers that saw it running
                    r = c.post(
                        "/api/event",
                        json={"n": "pageview", "d": PUBLIC, "u": f"https://{PUBLIC}/x"},
                    )
                    ingested.append(r.status_code)
        query.join(90)
    assert not query.is_alive()
    assert len(seen_running) == 2, "no /health answer came while the query ran"
    assert ingested == [202]
    assert answers[0].status_code == 200, answers[0].text
    steps = answers[0].json()["results"]["steps"]
    assert steps[0]["visitors"] == 0  # nothing ends in `b`


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Any]:
    s = connect(f"sqlite:///{tmp_path / 'g.db'}")
    add_site(s, PUBLIC, public=True)
    s.write(list(_events())[:1000])
    yield s
    s.close()


def _client(store: Any, guard: QueryGuard) -> TestClient:
    state = ServerState(store=store, tracker=None, db_url=store.url)  # type: ignore[arg-type]
    state.extras["footfall.stats.guard"] = guard  # what guard_for() keeps per server
    return TestClient(Starlette(routes=api.routes(state)))


def test_query_over_its_budget_answers_503_with_the_reason(store: Any) -> None:
    with _client(store, QueryGuard(StatsLimits(timeout=1e-9))) as c:
        r = c.get("/api/v1/stats/aggregate", params={"site_id": PUBLIC, "period": "7d"})
    assert r.status_code == 503
    assert "time budget" in r.json()["error"] and "FOOTFALL_STATS_TIMEOUT" in r.json()["error"]


def test_beyond_the_concurrency_bound_answers_503_with_retry_after(store: Any) -> None:
    guard = QueryGuard(StatsLimits(concurrency=1, queue_seconds=0))
    release = threading.Event()
    with _client(store, guard) as c:
        assert c.portal is not None
        held = c.portal.start_task_soon(guard.run, release.wait, 30)  # the one slot
        for _ in range(3000):
            if guard.snapshot()["running"] == 1:
                break
            release.wait(0.01)
        try:
            r = c.get("/api/v1/stats/aggregate", params={"site_id": PUBLIC, "period": "7d"})
        finally:
            release.set()
        assert held.result(30) is True
        ok = c.get("/api/v1/stats/aggregate", params={"site_id": PUBLIC, "period": "7d"})
    assert r.status_code == 503
    assert r.headers["retry-after"].isdigit()
    assert "FOOTFALL_STATS_CONCURRENCY" in r.json()["error"]
    assert ok.status_code == 200


def test_guard_runs_in_a_thread_within_the_budget_and_bounds_the_waiting() -> None:
    async def main() -> None:
        guard = QueryGuard(StatsLimits(timeout=5, concurrency=1, queue_seconds=30))
        release = threading.Event()
        seen: list[Any] = []

        def work() -> str:
            seen.append(
                (threading.current_thread() is not threading.main_thread(), budget.current())
            )
            release.wait(30)
            return "done"

        async with anyio.create_task_group() as tg:
            results: list[str] = []

            async def one() -> None:
                results.append(await guard.run(work))

            tg.start_soon(one)
            tg.start_soon(one)
            while guard.snapshot() != {"running": 1, "waiting": 1}:
                await anyio.sleep(0.01)
            release.set()
        assert results == ["done", "done"]
        assert [in_thread for in_thread, _ in seen] == [True, True]
        assert all(b is not None and b.seconds == 5 for _, b in seen)
        assert guard.snapshot() == {"running": 0, "waiting": 0}
        assert budget.current() is None  # the budget never leaks into the event loop

    anyio.run(main)


def test_too_many_waiting_are_refused_at_once() -> None:
    async def main() -> None:
        guard = QueryGuard(StatsLimits(concurrency=1, queue_seconds=30))
        release = threading.Event()
        async with anyio.create_task_group() as tg:
            for _ in range(1 + 16):  # one running, a full queue waiting
                tg.start_soon(guard.run, release.wait, 30)
            while guard.snapshot() != {"running": 1, "waiting": 16}:
                await anyio.sleep(0.01)
            with pytest.raises(Busy):
                await guard.run(release.wait, 30)
            release.set()

    anyio.run(main)


def test_guard_for_registers_the_health_report() -> None:
    extras: dict[str, Any] = {}
    guard = guard_for(extras)
    assert guard_for(extras) is guard
    assert extras["health"]["stats_queries"]() == {"running": 0, "waiting": 0}
