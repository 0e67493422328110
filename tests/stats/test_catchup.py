"""Summaries trail the writes: catch-up from a watermark (footfall.stats.summaries.catchup).

Real SQLite files throughout; "equal to a full rebuild" compares every counter
row, every visit row and (where the events arrive in order) every sketch's
estimate with what `rebuild` computes from scratch over the same events.
"""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import datasketches as ds
from starlette.testclient import TestClient
from tests.catchup_processes import fold_while_writing

from footfall import connect, stats
from footfall.event import Event
from footfall.stats.summaries.catchup import catch_up, lag
from footfall.stats.summaries.rebuild import rebuild
from footfall.stats.summaries.thread import EXTRAS_KEY

from .dataset import TZ_SITE, UTC_SITE
from .test_engine import CUSTOM

OVERVIEW = "visitors,visits,pageviews,bounce_rate,visit_duration"


def _counters(store: Any) -> list[tuple[Any, ...]]:
    return store.query(
        "SELECT site, dim, fvalue, grain, bucket, value, visits, bounces, duration, pageviews,"
        " events, requests, bytes, errors FROM stats_rollup"
        " WHERE (visits, bounces, duration, pageviews, events, requests, bytes, errors)"
        " != (0, 0, 0, 0, 0, 0, 0, 0) ORDER BY 1, 2, 3, 4, 5, 6"
    )


def _visits(store: Any) -> list[tuple[Any, ...]]:
    return store.query(
        "SELECT site, visit_id, visitor_id, start_ts, start_id, end_ts, entry_page, exit_page,"
        " pageviews, events, source, country FROM stats_visits ORDER BY 1, 2"
    )


def _sketches(store: Any) -> dict[tuple[Any, ...], float]:
    rows = store.query(
        "SELECT site, dim, fvalue, grain, bucket, value, visitors FROM stats_sketches"
    )
    return {r[:6]: ds.hll_sketch.deserialize(r[6]).get_estimate() for r in rows}


def _state(store: Any, sketches: bool = True) -> tuple[Any, ...]:
    return (_counters(store), _visits(store), _sketches(store) if sketches else None)


def _rebuilt(store: Any, sketches: bool = True) -> tuple[Any, ...]:
    rebuild(store)
    return _state(store, sketches)


def test_write_path_inserts_only(tmp_path: Path, events: list[Event]) -> None:
    store = connect(f"sqlite:///{tmp_path / 'w.db'}")
    store.write(events[:300])
    assert store.write_hooks == []
    assert store.query("SELECT COUNT(*) FROM stats_rollup") == [(0,)]
    assert lag(store) == 300
    assert catch_up(store) == 300
    assert lag(store) == 0
    assert store.query("SELECT COUNT(*) FROM stats_rollup")[0][0] > 0
    assert catch_up(store) == 0  # nothing new: nothing read


def test_interleaved_writes_and_catch_ups_equal_a_rebuild(
    tmp_path: Path, events: list[Event]
) -> None:
    store = connect(f"sqlite:///{tmp_path / 'i.db'}")
    rng = random.Random(3)
    i = 0
    while i < len(events):
        n = rng.randint(1, 60)
        store.write(events[i : i + n])
        i += n
        if rng.random() < 0.4:
            catch_up(store, chunk=rng.randint(1, 90), max_events=rng.randint(1, 200))
    store.write(events[200:260])  # a retried batch: stored once, folded once
    assert catch_up(store, chunk=41) > 0
    folded = _state(store)
    assert folded == _rebuilt(store)


def test_late_and_out_of_order_events(tmp_path: Path, events: list[Event]) -> None:
    """Events arrive shuffled (a visit's end before its start, days out of order)."""
    store = connect(f"sqlite:///{tmp_path / 'l.db'}")
    shuffled = list(events)
    random.Random(11).shuffle(shuffled)
    for i in range(0, len(shuffled), 29):
        store.write(shuffled[i : i + 29])
        catch_up(store, chunk=13)
    q = dict(period="custom", date=CUSTOM, metrics=OVERVIEW)
    for site in (UTC_SITE, TZ_SITE):
        raw = stats.query(store, site, engine="raw", **q)
        assert stats.query(store, site, engine="summary", **q) == raw
    # Counters and visits are exact in any order; a visit whose start moved earlier
    # keeps its visitor in the first day's sketch too (sketches only add).
    assert _state(store, sketches=False) == _rebuilt(store, sketches=False)


def test_answers_include_events_written_just_before(tmp_path: Path, events: list[Event]) -> None:
    store = connect(f"sqlite:///{tmp_path / 'n.db'}")
    mine = [e for e in events if e.site == UTC_SITE]
    q = dict(period="custom", date=CUSTOM, metrics=OVERVIEW)
    store.write(mine[:250])
    first = stats.query(store, UTC_SITE, engine="summary", **q)
    assert first == stats.query(store, UTC_SITE, engine="raw", **q)
    store.write(mine[250:])  # no catch-up in between: the query must do it
    assert lag(store) == len(mine) - 250
    second = stats.query(store, UTC_SITE, engine="summary", **q)
    assert second == stats.query(store, UTC_SITE, engine="raw", **q)
    assert second["pageviews"] > first["pageviews"]
    assert lag(store) == 0


def test_two_processes_catching_up_fold_each_event_once(tmp_path: Path) -> None:
    from footfall.demo import generate

    url = f"sqlite:///{tmp_path / 'p.db'}"
    store = connect(url)
    # In time order, as live traffic arrives (out-of-order arrival is tested above); ties
    # keep emission order, which the demo's ids follow, so no visit's first event by
    # (ts, id) is stored after its others and even the sketches must match a rebuild.
    evs = sorted((e for b in generate(days=4, seed=5, scale=0.5) for e in b), key=lambda e: e.ts)
    store.write(evs[: len(evs) // 3])
    counts = fold_while_writing(
        store, url, evs[len(evs) // 3 :], tmp_path, batch=50, chunk=7, timeout=120
    )
    stored = store.count()
    assert sum(counts) == stored  # every stored event read by exactly one of them
    assert all(c > 0 for c in counts)  # both did some of the work
    assert lag(store) == 0
    assert _state(store) == _rebuilt(store)


def test_delete_marks_sites_incomplete_and_keeps_the_watermark_sound(
    tmp_path: Path, events: list[Event]
) -> None:
    store = connect(f"sqlite:///{tmp_path / 'd.db'}")
    store.write(events)
    catch_up(store)
    q = dict(period="custom", date=CUSTOM, metrics=OVERVIEW)
    last = store.get_usage(limit=1)[0]  # newest by ts; delete its visitor (the top rows too)
    tail = store.query("SELECT visitor_id, site FROM events ORDER BY rowid DESC LIMIT 1")[0]
    assert store.delete_visitor(tail[0]) > 0
    assert store.query("SELECT complete FROM stats_sites WHERE site = ?", (tail[1],)) == [(0,)]
    # The deleted visitor's events are gone from the answer (raw path until a rebuild).
    assert stats.query(store, tail[1], **q) == stats.query(store, tail[1], engine="raw", **q)
    # New events may reuse the deleted top rowids: they must still be folded.
    extra = [
        Event(name="pageview", ts=last.ts, site=tail[1], visitor_id="new", visit_id="nv", path="/n")
    ]
    store.write(extra)
    assert lag(store) == 1
    assert catch_up(store) == 1
    rebuild(store)
    assert stats.query(store, tail[1], engine="summary", **q) == stats.query(
        store, tail[1], engine="raw", **q
    )
    assert store.purge(datetime(1990, 1, 1, tzinfo=timezone.utc)) == 0  # nothing: still complete
    assert store.query("SELECT complete FROM stats_sites WHERE site = ?", (tail[1],)) == [(1,)]


def test_server_background_catch_up(tmp_path: Path, events: list[Event], monkeypatch: Any) -> None:
    from footfall.server.app import create_app

    monkeypatch.setenv("FOOTFALL_CATCHUP_SECONDS", "0.05")
    url = f"sqlite:///{tmp_path / 's.db'}"
    writer = connect(url)
    app = create_app(url)
    with TestClient(app):
        thread = app.state.footfall.extras[EXTRAS_KEY]
        assert thread is not None
        writer.write(events[:400])  # another process's writes, say `footfall worker`
        deadline = time.monotonic() + 30
        while lag(writer) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lag(writer) == 0
        assert thread.folded == 400
    assert not thread._thread.is_alive()  # stopped with the server


def test_server_catch_up_can_be_turned_off(tmp_path: Path, monkeypatch: Any) -> None:
    from footfall.server.app import create_app

    monkeypatch.setenv("FOOTFALL_CATCHUP_SECONDS", "0")
    app = create_app(f"sqlite:///{tmp_path / 'o.db'}")
    with TestClient(app):
        assert app.state.footfall.extras[EXTRAS_KEY] is None


def test_hour_old_visit_reopened_across_chunks(tmp_path: Path) -> None:
    """A visit closed (idle) in one catch-up and continued by a late event in another."""
    store = connect(f"sqlite:///{tmp_path / 'h.db'}")
    t0 = datetime(2026, 10, 12, 9, tzinfo=timezone.utc)

    def ev(minutes: int, path: str, visit: str = "v1", who: str = "a") -> Event:
        return Event(
            name="pageview",
            ts=t0 + timedelta(minutes=minutes),
            site="x.example",
            visitor_id=who,
            visit_id=visit,
            path=path,
        )

    store.write([ev(0, "/"), ev(5, "/a")])
    catch_up(store)
    store.write([ev(60, "/", "v2", "b")])  # closes v1 (idle > 30 min)
    catch_up(store)
    store.write([ev(10, "/late")])  # v1 again, late
    catch_up(store)
    got = stats.query(
        store, "x.example", period="day", date="2026-10-12", metrics="visits,pageviews"
    )
    assert got == {"visits": 2, "pageviews": 4}
    exits = stats.query(
        store,
        "x.example",
        kind="breakdown",
        property="visit:exit_page",
        period="day",
        date="2026-10-12",
        metrics="visits",
    )
    assert exits == [{"exit_page": "/", "visits": 1}, {"exit_page": "/late", "visits": 1}]
    assert _state(store, sketches=False) == _rebuilt(store, sketches=False)
    assert lag(store) == 0


def test_background_catch_up_yields_to_busy_ingestion(tmp_path: Path, events: list[Event]) -> None:
    from footfall.stats.summaries.thread import CatchUpThread

    store = connect(f"sqlite:///{tmp_path / 'y.db'}")
    store.write(events[:300])
    thread = CatchUpThread(store, 0.02, busy=lambda: True, max_lag=1_000).start()
    try:
        deadline = time.monotonic() + 10
        while thread.deferred < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert thread.deferred >= 3
        assert lag(store) == 300  # busy and not too far behind: left for later
        store.write(events[300:])  # now more than max_lag behind: folds anyway
        while lag(store) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert lag(store) == 0
    finally:
        thread.stop()
