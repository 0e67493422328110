"""A stats read behind a large unfolded backlog answers quickly and truthfully.

The events are stored without folding (as after an import into a store that
another process serves, or a restart after a backlog). With the inline fold
bounded small, the first API read folds a slice, hands the rest to a
background fold and answers 503 "catching up with N new events" with
Retry-After - at once, not after the time budget, and never from stale
summaries. Once the background fold has finished, the same read answers, and
its numbers equal the raw engine's. Real SQLite files throughout.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from footfall import connect, stats
from footfall.event import Event
from footfall.server.state import ServerState
from footfall.sites import add_site
from footfall.stats import api
from footfall.stats.guard import QueryGuard, StatsLimits
from footfall.stats.summaries import catchup
from footfall.stats.summaries.catchup import lag, wait_for_background

from .dataset import UTC_SITE
from .test_engine import CUSTOM

METRICS = "visitors,visits,pageviews,bounce_rate,visit_duration"
BUDGET = 10.0  # the request's time budget (FOOTFALL_STATS_TIMEOUT's default)


@pytest.fixture
def backlog(tmp_path: Path, events: list[Event], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    store = connect(f"sqlite:///{tmp_path / 'backlog.db'}")
    add_site(store, UTC_SITE, public=True)
    for i in range(0, len(events), 100):
        store.write(events[i : i + 100])
    assert lag(store) == len(events)  # stored, none folded
    # A read may fold one 50-event slice itself: the backlog is ~20 times that.
    monkeypatch.setattr(catchup, "INLINE_SECONDS", 0.001)
    monkeypatch.setattr(catchup, "INLINE_CHUNK", 50)
    yield store
    assert wait_for_background(store, 60)
    store.close()


def _client(store: Any) -> TestClient:
    state = ServerState(store=store, tracker=None, db_url=store.url)  # type: ignore[arg-type]
    state.extras["footfall.stats.guard"] = QueryGuard(StatsLimits(timeout=BUDGET))
    return TestClient(Starlette(routes=api.routes(state)))


def _aggregate(c: TestClient) -> Any:
    return c.get(
        "/api/v1/stats/aggregate",
        params={"site_id": UTC_SITE, "period": "custom", "date": CUSTOM, "metrics": METRICS},
    )


def test_first_read_says_catching_up_then_answers_in_full(
    backlog: Any, events: list[Event]
) -> None:
    store = backlog
    with _client(store) as c:
        started = time.monotonic()
        first = _aggregate(c)
        took = time.monotonic() - started
        assert first.status_code == 503, first.text
        assert took < BUDGET / 2  # refused at once, not at the end of the budget
        error = first.json()["error"]
        assert "catching up with" in error and "new events" in error
        assert "time budget" not in error
        assert int(first.headers["retry-after"]) >= 1
        pending = int(error.split("catching up with ")[1].split(" ")[0].replace(",", ""))
        assert 0 < pending < len(events)  # what was left after the read's own slice

        assert wait_for_background(store, 60)  # the fold went on after the refusal
        assert lag(store) == 0
        later = _aggregate(c)
    assert later.status_code == 200, later.text
    raw = stats.query(store, UTC_SITE, period="custom", date=CUSTOM, metrics=METRICS, engine="raw")
    assert later.json()["results"] == {m: {"value": v} for m, v in raw.items()}


def test_reads_behind_a_running_fold_wait_briefly_and_do_not_fold_it_again(
    backlog: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = backlog
    monkeypatch.setattr(catchup, "INLINE_SECONDS", 0.2)
    behind = lag(store)
    holder = sqlite3.connect(store.location, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's write: the fold must wait for it
    try:
        catchup.fold_in_background(store)  # what a refused read starts
        with _client(store) as c:
            for _ in range(3):
                started = time.monotonic()
                r = _aggregate(c)
                assert r.status_code == 503, r.text
                assert "catching up with" in r.json()["error"]
                assert time.monotonic() - started < BUDGET / 2  # no pile-up behind the fold
            assert lag(store) == behind  # no read folded: they waited for the background fold
            holder.execute("ROLLBACK")
            assert wait_for_background(store, 60)
            ok = _aggregate(c)
        assert ok.status_code == 200, ok.text
        assert lag(store) == 0
    finally:
        holder.close()
