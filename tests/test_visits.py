"""Visits: 30 idle minutes split a visit, plugins see is_new, processes agree."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from footfall import connect
from footfall.event import Event
from footfall.integrations.visits import (
    Visit,
    VisitTracker,
    disable_visit_plugin,
    enable_visit_plugin,
    run_inline_plugins,
    visit_plugins,
)
from footfall.processors import run_chain
from footfall.processors.defaults import default_processors
from footfall.processors.state import MemoryState, state_for
from footfall.processors.visits import VisitPluginsProcessor, VisitsProcessor
from footfall.stores.base import EventFilter
from footfall.tracker import Tracker

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"


def ev(minutes: float, visitor: str = "v1", site: str = "s", **fields: Any) -> Event:
    return Event(
        name="pageview", site=site, visitor_id=visitor, ts=T0 + timedelta(minutes=minutes), **fields
    )


class Recorder:
    """A worker-side plugin that remembers what it saw."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, Visit]] = []

    def record_request(self, visit: Visit, request: Event) -> None:
        self.seen.append((request.path, visit))


@pytest.fixture
def store(db_path: Path) -> Iterator[Any]:
    s = connect(f"sqlite:///{db_path}")
    yield s
    s.close()


@pytest.fixture
def plugin() -> Iterator[Recorder]:
    rec = Recorder()
    enable_visit_plugin(rec)
    yield rec
    disable_visit_plugin(rec)


def chain(state: Any, timeout: timedelta = timedelta(minutes=30)) -> list[Any]:
    visits = VisitsProcessor(state, timeout=timeout)
    return [visits, VisitPluginsProcessor(visits)]


def test_visit_splits_after_30_idle_minutes(store: Any) -> None:
    out = run_chain(chain(state_for(store)), [ev(0), ev(10), ev(39), ev(70), ev(99.9)])
    ids = [e.visit_id for e in out]
    assert ids[0] == ids[1] == ids[2]  # gaps of 10 and 29 minutes
    assert ids[3] != ids[2]  # 31 idle minutes: a new visit
    assert ids[4] == ids[3]


def test_split_across_batches_and_timeout_is_configurable(store: Any) -> None:
    procs = chain(state_for(store), timeout=timedelta(minutes=5))
    a = run_chain(procs, [ev(0)])[0].visit_id
    b = run_chain(procs, [ev(4)])[0].visit_id
    c = run_chain(procs, [ev(10)])[0].visit_id
    assert a == b != c


def test_visitors_and_sites_are_separate(store: Any) -> None:
    out = run_chain(chain(state_for(store)), [ev(0), ev(1, "v2"), ev(2, site="other")])
    assert len({e.visit_id for e in out}) == 3


def test_events_without_visitor_get_no_visit(store: Any) -> None:
    out = run_chain(chain(state_for(store)), [ev(0, visitor="")])
    assert out[0].visit_id == ""


def test_out_of_order_batch_is_sorted(store: Any, plugin: Recorder) -> None:
    batch = [ev(45, path="/c"), ev(0, path="/a"), ev(10, path="/b")]
    out = run_chain(chain(state_for(store)), batch)
    assert [e.path for e in out] == ["/c", "/a", "/b"]  # sinks get the batch order
    assert out[1].visit_id == out[2].visit_id != out[0].visit_id
    assert [(p, v.is_new) for p, v in plugin.seen] == [("/a", True), ("/b", False), ("/c", True)]


def test_plugins_see_is_new_started_and_last_seen(store: Any, plugin: Recorder) -> None:
    procs = chain(state_for(store))
    run_chain(procs, [ev(0, path="/a"), ev(5, path="/b")])
    run_chain(procs, [ev(20, path="/c"), ev(60, path="/d")])
    paths = [p for p, _ in plugin.seen]
    a, b, c, d = (v for _, v in plugin.seen)
    assert paths == ["/a", "/b", "/c", "/d"]
    assert (a.is_new, b.is_new, c.is_new, d.is_new) == (True, False, False, True)
    assert a.key == b.key == c.key != d.key
    assert c.started == T0 and c.last_seen == T0 + timedelta(minutes=20)
    assert d.started == d.last_seen == T0 + timedelta(minutes=60)


def test_late_event_joins_its_visit_or_gets_its_own(store: Any) -> None:
    procs = chain(state_for(store))
    current = run_chain(procs, [ev(100), ev(110)])[0].visit_id
    late = run_chain(procs, [ev(90)])[0]  # 10 minutes before the visit started
    assert late.visit_id == current
    much_older = run_chain(procs, [ev(0)])[0]
    assert much_older.visit_id not in ("", current)
    assert run_chain(procs, [ev(120)])[0].visit_id == current  # state untouched


def test_given_visit_id_is_kept_and_is_new_follows_it(store: Any, plugin: Recorder) -> None:
    procs = chain(state_for(store))
    out = run_chain(procs, [ev(0, visit_id="cookie-a"), ev(1, visit_id="cookie-a")])
    out += run_chain(procs, [ev(2, visit_id="cookie-b")])
    assert [e.visit_id for e in out] == ["cookie-a", "cookie-a", "cookie-b"]
    assert [v.is_new for _, v in plugin.seen] == [True, False, True]


def test_visit_id_without_visitor_id_is_tracked(store: Any, plugin: Recorder) -> None:
    procs = chain(state_for(store))
    run_chain(procs, [ev(0, visitor="", visit_id="c1"), ev(1, visitor="", visit_id="c1")])
    run_chain(procs, [ev(2, visitor="", visit_id="c1")])
    assert [v.is_new for _, v in plugin.seen] == [True, False, False]


def test_a_raising_plugin_never_breaks_tracking(store: Any, plugin: Recorder) -> None:
    class Broken:
        def record_request(self, visit: Visit, request: Event) -> None:
            raise RuntimeError("plugin bug")

    broken = Broken()
    enable_visit_plugin(broken)
    try:
        tracker = Tracker([store], chain(state_for(store)))
        tracker.emit("pageview", site="s", visitor_id="v1", path="/x")
        assert tracker.flush(5)
        tracker.close()
    finally:
        disable_visit_plugin(broken)
    assert [p for p, _ in plugin.seen] == ["/x"]  # the other plugin still ran
    assert store.count(filters=EventFilter(site="s")) == 1


def test_plugin_registry() -> None:
    rec = Recorder()
    enable_visit_plugin(rec)
    enable_visit_plugin(rec)
    assert visit_plugins().count(rec) == 1
    disable_visit_plugin(rec)
    assert rec not in visit_plugins()
    with pytest.raises(TypeError):
        enable_visit_plugin(object())


def test_inline_plugins_run_only_inline(store: Any) -> None:
    class Inline(Recorder):
        inline = True

        def record_request(self, visit: Visit, request: Any) -> None:
            self.seen.append((str(request), visit))

    inline = Inline()
    enable_visit_plugin(inline)
    try:
        run_chain(chain(state_for(store)), [ev(0)])
        assert inline.seen == []  # not in the worker
        tracker = VisitTracker()
        visit = tracker.touch("cookie-1", T0)
        run_inline_plugins(visit, "<framework request>")
        assert inline.seen == [("<framework request>", visit)]
    finally:
        disable_visit_plugin(inline)


def test_visit_tracker_inline() -> None:
    vt = VisitTracker(timeout=timedelta(minutes=30), max_size=2)
    a = vt.touch("k", T0)
    b = vt.touch("k", T0 + timedelta(minutes=29))
    c = vt.touch("k", T0 + timedelta(minutes=60))
    assert (a.is_new, b.is_new, c.is_new) == (True, False, True)
    assert a.key == b.key != c.key
    assert b.started == T0 and b.last_seen == T0 + timedelta(minutes=29)
    vt.touch("x", T0)
    vt.touch("y", T0)
    assert len(vt) == 2  # bounded: "k" was forgotten
    assert vt.touch("k", T0 + timedelta(minutes=61)).is_new


def test_two_processors_on_one_file_agree(db_path: Path) -> None:
    """Two stores on one file stand for two processes; the cache must not fool them."""
    a, b = connect(f"sqlite:///{db_path}"), connect(f"sqlite:///{db_path}")
    try:
        pa, pb = chain(state_for(a)), chain(state_for(b))
        first = run_chain(pa, [ev(0)])[0].visit_id
        assert run_chain(pb, [ev(20)])[0].visit_id == first  # b reads a's state
        # a's cache says last seen at 0; b moved it to 20, so 45 is still the same visit.
        assert run_chain(pa, [ev(45)])[0].visit_id == first
        assert run_chain(pb, [ev(80)])[0].visit_id != first  # 35 idle minutes
    finally:
        a.close()
        b.close()


def test_memory_state_when_store_has_none(caplog: pytest.LogCaptureFixture) -> None:
    class NoState:  # a store declaring no shared state (Store.processor_state's default)
        def processor_state(self) -> None:
            return None

        def meta_home(self) -> NoState:
            return self

    state = state_for(NoState())
    assert isinstance(state, MemoryState)
    assert "in memory" in caplog.text


def test_default_chain_end_to_end(store: Any, plugin: Recorder) -> None:
    tracker = Tracker([store], default_processors(store))
    for minute, path in [(0, "/"), (3, "/pricing"), (50, "/")]:
        tracker.emit(
            "pageview",
            site="shop.test",
            url=f"https://shop.test{path}",
            ip="81.2.69.142",
            user_agent=UA,
            ts=T0 + timedelta(minutes=minute),
        )
    assert tracker.flush(10)
    tracker.close()
    rows = sorted(store.get_usage(filters=EventFilter(site="shop.test")), key=lambda e: e.ts)
    assert [e.path for e in rows] == ["/", "/pricing", "/"]
    assert len({e.visitor_id for e in rows}) == 1 and rows[0].visitor_id
    assert rows[0].visit_id == rows[1].visit_id != rows[2].visit_id
    assert all(e.ip == "" and e.country == "GB" and e.browser == "Firefox" for e in rows)
    assert [v.is_new for _, v in plugin.seen] == [True, False, True]


WORKER = textwrap.dedent(
    """
    import json, sys
    from datetime import datetime, timedelta, timezone
    from footfall import connect
    from footfall.event import Event
    from footfall.processors import run_chain
    from footfall.processors.defaults import default_processors

    url, start = sys.argv[1], float(sys.argv[2])
    t0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
    clock = lambda: t0
    store = connect(url)
    chain = default_processors(store, clock=clock, geo=False)
    out = []
    for i in range(3):  # one batch each, 40 minutes apart, interleaved by the caller
        sys.stdin.readline()  # wait for the caller's go
        e = Event(name="pageview", site="s", ip="81.2.69.142", user_agent="UA",
                  ts=t0 + timedelta(minutes=start + 40 * i))
        got = run_chain(chain, [e])[0]
        out.append([got.visitor_id, got.visit_id])
        sys.stdout.write(json.dumps(out[-1]) + "\\n"); sys.stdout.flush()
    store.close()
    """
)


def test_two_real_processes_share_salts_and_visits(db_url: str) -> None:
    """A at minutes 0, 40, 80 and B at 20, 60, 100: one visitor, one visit.

    Each process alone sees 40-minute gaps; only shared state shows 20.
    """
    connect(db_url).close()  # migrate once up front
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, db_url, str(start)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for start in (0, 20)
    ]
    results: list[list[str]] = []
    try:
        for _ in range(3):
            for p in procs:  # strictly alternate: A, B, A, B, ...
                assert p.stdout is not None and p.stdin is not None
                p.stdin.write("\n")
                p.stdin.flush()
                results.append(json.loads(p.stdout.readline()))  # done before the next goes
        for p in procs:
            assert p.wait(timeout=60) == 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    visitors = {r[0] for r in results}
    visits = {r[1] for r in results}
    assert len(results) == 6
    assert len(visitors) == 1 and "" not in visitors  # the same salt in both processes
    assert len(visits) == 1  # 20-minute gaps across both processes: one visit


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_fork_while_a_lock_is_held_does_not_deadlock_the_child() -> None:
    state = MemoryState()
    visits = VisitsProcessor(state)
    with visits._lock, state._lock:  # as if the worker were mid-batch at fork time
        pid = os.fork()
        if pid == 0:  # child: must be able to take both locks
            code = 1
            try:
                event = ev(0)
                visits.process_batch([event])
                code = 0 if event.visit_id else 2
            finally:
                os._exit(code)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0
            return
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail("the forked child deadlocked on a lock held at fork time")
