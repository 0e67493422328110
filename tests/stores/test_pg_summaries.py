"""Stats summaries on PostgreSQL: the same catch-up, the same state, the same answers.

The data set of tests/stats is written to a SQLite file and to a PostgreSQL
schema (small batches, a retried one, catch-ups interleaved on PostgreSQL in
odd chunks). Both stores' summary tables must then hold the same rows, the
summary engine on PostgreSQL must answer what SQLite's does and what raw SQL
does, deletes must send a site back to raw SQL until a rebuild, and two
processes catching up at once must fold every event exactly once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import datasketches as ds
import pytest
from tests.catchup_processes import fold_while_writing
from tests.stats.dataset import TZ, TZ_SITE, UTC_SITE, build
from tests.stats.test_engine import CUSTOM
from tests.stores.backends import postgres_store

from footfall import connect, stats
from footfall.stats.summaries.catchup import catch_up, lag
from footfall.stats.summaries.qmark import run
from footfall.stats.summaries.rebuild import rebuild
from footfall.stores.meta import Site, open_meta

OVERVIEW = "visitors,visits,pageviews,bounce_rate,visit_duration"
SITES = [(UTC_SITE, "UTC"), (TZ_SITE, TZ)]
# Queries the summaries answer (footfall.stats.summaries.read.why_not says which).
QUERIES: list[dict[str, Any]] = [
    {"metrics": OVERVIEW},
    {"metrics": OVERVIEW, "filters": "visit:country==DE"},
    {"metrics": OVERVIEW, "filters": "visit:device==Mobile"},
    {"kind": "timeseries", "metrics": OVERVIEW, "interval": "date"},
    {"kind": "timeseries", "metrics": "visitors,pageviews", "interval": "month"},
    {"kind": "breakdown", "metrics": "visitors,visits,pageviews", "property": "visit:source"},
    {"kind": "breakdown", "metrics": "visitors,pageviews", "property": "event:page"},
    {"kind": "breakdown", "metrics": "visitors,visits", "property": "visit:country"},
    {"kind": "breakdown", "metrics": "visitors,visits", "property": "visit:entry_page"},
    {"kind": "breakdown", "metrics": "visitors,bounce_rate", "property": "visit:browser"},
]


def _register(store: Any) -> None:
    meta = open_meta(store)
    meta.add_site(Site(UTC_SITE, "UTC", False))
    meta.add_site(Site(TZ_SITE, TZ, True))


def _fill(store: Any, events: list[Any], catch_up_every: int = 0) -> Any:
    _register(store)
    for n, i in enumerate(range(0, len(events), 37)):
        store.write(events[i : i + 37])
        if catch_up_every and n % catch_up_every == 0:
            catch_up(store, chunk=53)
    store.write(events[100:180])  # a retried batch: must not be counted twice
    return store


@pytest.fixture(scope="module")
def dataset() -> list[Any]:
    return build()


@pytest.fixture(scope="module")
def sqlite_ref(tmp_path_factory: pytest.TempPathFactory, dataset: list[Any]) -> Iterator[Any]:
    store = connect(f"sqlite:///{tmp_path_factory.mktemp('ref') / 'ref.db'}")
    _fill(store, dataset)
    catch_up(store)
    yield store
    store.close()


@pytest.fixture(scope="module")
def pg(tmp_path_factory: pytest.TempPathFactory, dataset: list[Any]) -> Iterator[Any]:
    store = postgres_store(tmp_path_factory.mktemp("pg"))
    _fill(store, dataset, catch_up_every=3)
    catch_up(store)
    yield store
    store.close()


_COUNTERS = (
    "SELECT site, dim, fvalue, grain, bucket, value, visits, bounces, duration, pageviews,"
    " events, requests, bytes, errors FROM stats_rollup"
    " WHERE visits <> 0 OR bounces <> 0 OR duration <> 0 OR pageviews <> 0 OR events <> 0"
    " OR requests <> 0 OR bytes <> 0 OR errors <> 0 ORDER BY 1, 2, 3, 4, 5, 6"
)
_VISITS = (
    "SELECT site, visit_id, visitor_id, start_ts, start_id, end_ts, entry_page, exit_page,"
    " pageviews, events, source, country FROM stats_visits ORDER BY 1, 2"
)


def _state(store: Any) -> tuple[Any, ...]:
    counters = [
        tuple(int(v) if isinstance(v, int) else v for v in r) for r in run(store, _COUNTERS)
    ]
    visits = [tuple(r) for r in run(store, _VISITS)]
    sketches = {
        tuple(r[:6]): round(ds.hll_sketch.deserialize(bytes(r[6])).get_estimate(), 6)
        for r in run(
            store, "SELECT site, dim, fvalue, grain, bucket, value, visitors FROM stats_sketches"
        )
    }
    return counters, visits, sketches


def test_postgres_summaries_hold_what_sqlite_holds(sqlite_ref: Any, pg: Any) -> None:
    assert lag(pg) == 0
    want, got = _state(sqlite_ref), _state(pg)
    assert got[0] == want[0]  # every counter row
    assert got[1] == want[1]  # every visit
    assert got[2] == want[2]  # every sketch's estimate
    assert len(want[0]) > 100 and len(want[1]) > 50


@pytest.mark.parametrize("params", QUERIES, ids=lambda p: p.get("kind", "aggregate") + str(len(p)))
@pytest.mark.parametrize(("site", "tz"), SITES)
def test_summary_answers_agree(
    sqlite_ref: Any, pg: Any, site: str, tz: str, params: dict[str, Any]
) -> None:
    q = {"period": "custom", "date": CUSTOM, "tz": tz, **params}
    summary = stats.query(pg, site, engine="summary", **q)  # raises if not from summaries
    assert summary == stats.query(sqlite_ref, site, engine="summary", **q)
    assert summary == stats.query(pg, site, engine="raw", **q)
    assert summary  # not an empty answer


def test_writes_and_catch_ups_from_two_processes(tmp_path: Path, dataset: list[Any]) -> None:
    store = postgres_store(tmp_path)
    try:
        _register(store)
        evs = sorted(dataset, key=lambda e: e.ts)
        store.write(evs[: len(evs) // 3])
        counts = fold_while_writing(
            store, store.url, evs[len(evs) // 3 :], tmp_path, batch=41, chunk=11
        )
        stored = store.count()
        assert sum(counts) == stored  # every event read by exactly one catch-up
        assert lag(store) == 0
        live = _state(store)
        rebuild(store)
        assert _state(store) == live
    finally:
        store.close()


def test_a_delete_sends_the_site_to_raw_sql_until_a_rebuild(
    tmp_path: Path, dataset: list[Any]
) -> None:
    store = postgres_store(tmp_path)
    try:
        _fill(store, [e for e in dataset if e.site == UTC_SITE])
        q = {"period": "custom", "date": CUSTOM, "metrics": OVERVIEW}
        before = stats.query(store, UTC_SITE, engine="summary", **q)
        visitor = next(e.visitor_id for e in dataset if e.site == UTC_SITE and e.visitor_id)
        assert store.delete_visitor(visitor) > 0
        raw = stats.query(store, UTC_SITE, engine="raw", **q)
        assert raw != before
        assert stats.query(store, UTC_SITE, **q) == raw  # incomplete: auto reads raw events
        with pytest.raises(stats.StatsError):
            stats.query(store, UTC_SITE, engine="summary", **q)
        rebuild(store, UTC_SITE)
        assert stats.query(store, UTC_SITE, engine="summary", **q) == raw
        # The command line says which site now needs a rebuild, as on SQLite.
        from click.testing import CliRunner

        from footfall.cli import main

        others = (e.visitor_id for e in dataset if e.site == UTC_SITE and e.visitor_id)
        other = next(v for v in others if v != visitor)
        gone = CliRunner().invoke(main, ["delete-visitor", "--db", store.url, other, "--yes"])
        assert gone.exit_code == 0, gone.output
        assert f"footfall stats rebuild --site {UTC_SITE}" in gone.stderr
    finally:
        store.close()


def test_events_stored_before_the_watermark_make_a_site_incomplete(
    tmp_path: Path, dataset: list[Any]
) -> None:
    store = postgres_store(tmp_path)
    try:
        mine = [e for e in dataset if e.site == UTC_SITE]
        _register(store)
        store.write(mine[:200])
        # What migration 0013 does on a database that already holds events.
        store.query("UPDATE stats_state SET value = (SELECT MAX(seq) FROM events) RETURNING 1")
        store.write(mine[200:])
        q = {"period": "custom", "date": CUSTOM, "metrics": OVERVIEW}
        raw = stats.query(store, UTC_SITE, engine="raw", **q)
        assert stats.query(store, UTC_SITE, **q) == raw
        with pytest.raises(stats.StatsError):
            stats.query(store, UTC_SITE, engine="summary", **q)
        rebuild(store)
        assert stats.query(store, UTC_SITE, engine="summary", **q) == raw
    finally:
        store.close()


def test_a_batch_committed_late_is_not_skipped(tmp_path: Path) -> None:
    """Writers hand out `seq` in commit order, so a catch-up never moves past an open batch.

    Batch A draws its seq values and stays open; batch B comes after it; a catch-up
    runs; only then A commits. Without the writer lock B would commit first, the
    catch-up would move the watermark past A's values and A would never be folded.
    """
    import threading

    from footfall import Event
    from footfall.stores.postgres import PostgresStore

    inserted, release = threading.Event(), threading.Event()

    class HeldOpen(PostgresStore):
        def _after_insert(self, cur: Any, events: Any, n: int) -> None:
            inserted.set()
            release.wait(30)

    store = postgres_store(tmp_path)
    _register(store)
    held = HeldOpen(store.url)
    try:
        a = threading.Thread(target=held.write, args=([Event(name="pageview", site=UTC_SITE)],))
        a.start()
        assert inserted.wait(30)  # A's rows hold their seq values, uncommitted
        b = threading.Thread(target=store.write, args=([Event(name="pageview", site=UTC_SITE)],))
        b.start()
        b.join(0.5)  # with the lock B waits for A; without it B would be committed by now
        folded = catch_up(store)  # a catch-up while A is still open
        release.set()
        a.join(30)
        b.join(30)
        folded += catch_up(store)
        assert store.count() == 2
        assert folded == 2  # neither batch skipped
        assert lag(store) == 0
    finally:
        release.set()
        held.close()
        store.close()
