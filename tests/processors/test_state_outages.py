"""A store that holds visitor salts and visits goes away for a moment: no event loses its ids.

The visitor-id and visits steps read and write shared state in the store's
database. When that database is locked or its connections are cut, the
delivery worker holds the batch and runs the chain again from the step that
stopped, so every event still gets its visitor and visit id, and a retried
batch neither splits a visit nor counts one twice. A processor's bug is not
retried. The stores are real: a SQLite file locked by another connection
(`BEGIN EXCLUSIVE`), and PostgreSQL connections ended by
`pg_terminate_backend`.
"""

from __future__ import annotations

import logging
import sqlite3
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from tests.services import POSTGRES_URL, need_postgres

from footfall import connect
from footfall.delivery.sinks import CaptureSink
from footfall.delivery.worker import wait_until
from footfall.errors import StateUnavailable
from footfall.event import Event, utcnow
from footfall.processors import ChainInterrupted, resume_chain, run_chain
from footfall.processors.defaults import default_processors
from footfall.processors.state import MemoryState, VisitTx
from footfall.processors.visits import VisitsProcessor
from footfall.server.state import collector_tracker
from footfall.stores import sqlite as sqlite_store
from footfall.tracker import Tracker

VISITORS = 20
SITE = "example.com"
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"


def fast_retries(tracker: Tracker) -> Tracker:
    # Milliseconds between attempts: what is held and retried matters, not the clock.
    tracker.dispatcher.backoff_base = 0.005
    tracker.dispatcher.backoff_max = 0.02
    return tracker


def send_round(tracker: Tracker, minute: int) -> None:
    """One page view per visitor, `minute` minutes into their visit."""
    start = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=30)
    for v in range(VISITORS):
        tracker.send(
            Event(
                name="pageview",
                site=SITE,
                path=f"/{minute}",
                ts=start + timedelta(minutes=minute, seconds=v),
                ip=f"203.0.113.{v + 1}",
                user_agent=UA,
            )
        )
    tracker.flush(timeout=0)  # hand the batch to the worker now


def assert_every_visitor_has_one_visit(events: Sequence[Event], per_visitor: int) -> None:
    assert len(events) == VISITORS * per_visitor
    assert all(e.visitor_id and e.visit_id for e in events), "events without visitor or visit id"
    assert all(not e.ip for e in events)  # privacy, the last step, ran on every event
    visits: dict[str, set[str]] = defaultdict(set)
    for e in events:
        visits[e.visitor_id].add(e.visit_id)
    assert len(visits) == VISITORS
    assert all(len(ids) == 1 for ids in visits.values()), "a visit was split"


def wait_held(tracker: Tracker, total: int) -> None:
    """Until the worker is retrying the batch (or, wrongly, has sent it on)."""
    assert wait_until(
        lambda: tracker.stats().retried > 0 or tracker.stats().delivered >= total, timeout=30
    )


# -- SQLite: the file locked by another connection past the store's patience ----
@pytest.fixture
def impatient_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    # The store waits up to 2 minutes for a lock; a test waits a fraction of a second.
    monkeypatch.setattr(sqlite_store, "BUSY_TIMEOUT_MS", 20)
    monkeypatch.setattr(sqlite_store, "BUSY_RETRY_SECONDS", 0.1)


@contextmanager
def locked(db: Path) -> Iterator[None]:
    other = sqlite3.connect(db, isolation_level=None, timeout=5)
    try:
        other.execute("BEGIN EXCLUSIVE")
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_sqlite_state_locked_holds_the_batch_until_it_gets_its_ids(
    tmp_path: Path, impatient_sqlite: None
) -> None:
    db = tmp_path / "state.db"
    store = connect(f"sqlite:///{db}")
    sink = CaptureSink()
    tracker = fast_retries(collector_tracker(sink, default_processors(store, geo=False)))
    try:
        # First batch: no salt cached yet, so the visitor-id step stops first.
        with locked(db):
            send_round(tracker, 0)
            wait_held(tracker, VISITORS)
        assert tracker.flush(timeout=30)
        # Second batch: salt and visits cached, the visits transaction stops.
        with locked(db):
            send_round(tracker, 5)
            wait_held(tracker, 2 * VISITORS)
        assert tracker.flush(timeout=30)
        send_round(tracker, 10)
        assert tracker.flush(timeout=30)
        stats = tracker.stats()
        assert (stats.delivered, stats.failed) == (3 * VISITORS, 0)
        assert_every_visitor_has_one_visit(sink.events, per_visitor=3)
        rows = store.query("SELECT COUNT(*), COUNT(DISTINCT visit_id) FROM visit_state")
        assert rows == [(VISITORS, VISITORS)]
    finally:
        tracker.close(timeout=5)
        store.close()


def test_a_library_tracker_that_runs_out_of_tries_keeps_the_events_and_drops_the_ip(
    tmp_path: Path, impatient_sqlite: None, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "state.db"
    store = connect(f"sqlite:///{db}")
    sink = CaptureSink()
    tracker = fast_retries(Tracker([sink], default_processors(store, geo=False), max_retries=2))
    try:
        with locked(db), caplog.at_level(logging.ERROR, "footfall"):
            send_round(tracker, 0)
            assert tracker.flush(timeout=30)
        stats = tracker.stats()
        assert (stats.delivered, stats.failed) == (VISITORS, 0)
        assert stats.retried >= 2 * VISITORS  # held and retried before going on
        assert all(not e.visit_id and not e.ip for e in sink.events)
        assert "go on without that step" in caplog.text
    finally:
        tracker.close(timeout=5)
        store.close()


def test_a_processor_bug_is_not_retried() -> None:
    class Broken:
        def __call__(self, event: Event) -> Event:
            return self.process_batch([event])[0]

        def process_batch(self, events: list[Event]) -> list[Event]:
            raise RuntimeError("bug in user code")

    sink = CaptureSink()
    tracker = collector_tracker(sink, [Broken()])
    try:
        send_round(tracker, 0)
        assert tracker.flush(timeout=30)
        stats = tracker.stats()
        assert (stats.delivered, stats.retried) == (VISITORS, 0)
    finally:
        tracker.close(timeout=5)


# -- PostgreSQL: the state's connections terminated ------------------------------
@pytest.fixture
def pg_url() -> Iterator[str]:
    """A store URL in a schema of its own, its connections named after it."""
    need_postgres()
    psycopg = pytest.importorskip("psycopg")
    schema = f"ff_state_{uuid.uuid4().hex[:10]}"
    sep = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{sep}schema={schema}&application_name={schema}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def terminate(application_name: str) -> int:
    import psycopg

    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        return len(
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s AND pid <> pg_backend_pid()",
                (application_name,),
            ).fetchall()
        )


def test_postgresql_state_connections_terminated_hold_the_batch(pg_url: str) -> None:
    store = connect(pg_url)
    sink = CaptureSink()
    tracker = fast_retries(collector_tracker(sink, default_processors(store, geo=False)))
    name = urlsplit(pg_url).query.rsplit("application_name=", 1)[1]
    try:
        send_round(tracker, 0)
        assert tracker.flush(timeout=30)
        assert terminate(name) > 0  # the pooled connection the visits step will use
        send_round(tracker, 5)
        assert tracker.flush(timeout=30)
        assert_every_visitor_has_one_visit(sink.events, per_visitor=2)
        stats = tracker.stats()
        assert stats.retried > 0
        assert (stats.delivered, stats.failed) == (2 * VISITORS, 0)
        rows = store.query("SELECT COUNT(*), COUNT(DISTINCT visit_id) FROM visit_state")
        assert [tuple(r) for r in rows] == [(VISITORS, VISITORS)]
    finally:
        tracker.close(timeout=5)
        store.close()


# -- the chain and the visits step, retried ------------------------------------
class FailingCommit(MemoryState):
    """In-process state whose next `failures` transactions fail at commit (rolled back)."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 0

    @contextmanager
    def visits(self) -> Iterator[VisitTx]:
        with super().visits() as tx:
            before = dict(self._rows)
            yield tx
            if self.failures:
                self.failures -= 1
                self._rows.clear()
                self._rows.update(before)
                raise StateUnavailable("connection lost at commit")


def visit_events(minute: int) -> list[Event]:
    t0 = utcnow().replace(microsecond=0) - timedelta(hours=1)
    return [
        Event(name="pageview", site=SITE, visitor_id=f"v{v}", ts=t0 + timedelta(minutes=minute))
        for v in range(3)
    ]


def test_a_failed_visit_transaction_leaves_the_batch_and_the_cache_as_they_were() -> None:
    state = FailingCommit()
    visits = VisitsProcessor(state)
    first = run_chain([visits], visit_events(0))
    state.failures = 1
    second = visit_events(10)
    with pytest.raises(StateUnavailable):
        visits.process_batch(second)
    assert [e.visit_id for e in second] == ["", "", ""]
    # The retry continues the visits the state and the cache agree on: none split.
    assert [e.visit_id for e in visits.process_batch(second)] == [e.visit_id for e in first]
    assert [e.visit_id for e in run_chain([visits], visit_events(20))] == [
        e.visit_id for e in first
    ]


def test_the_chain_resumes_at_the_step_that_stopped_and_runs_no_step_twice() -> None:
    runs: dict[str, int] = defaultdict(int)

    def count(event: Event) -> Event:
        runs[event.path] += 1
        return event

    class Flaky:
        """Per event: its state goes away at the third event, once."""

        def __init__(self) -> None:
            self.seen = 0

        def __call__(self, event: Event) -> Event:
            self.seen += 1
            if self.seen == 3:
                raise StateUnavailable("gone for a moment")
            event.props["flaky"] = event.props.get("flaky", 0) + 1
            return event

    chain: list[Any] = [count, Flaky(), count]
    events = [Event(name="pageview", path=f"/{i}") for i in range(5)]
    with pytest.raises(ChainInterrupted) as stopped:
        run_chain(chain, events)
    progress = stopped.value.progress
    assert (progress.step, len(progress.done), len(progress.todo)) == (1, 2, 3)
    out = resume_chain(chain, progress)
    assert [e.path for e in out] == [f"/{i}" for i in range(5)]
    assert all(e.props == {"flaky": 1} for e in out)
    assert all(n == 2 for n in runs.values())  # before and after the flaky step, once each
