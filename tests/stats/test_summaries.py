"""Summaries: idempotent writes, rebuild, realtime, and the sketch's error bound."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

import datasketches as ds
import pytest

from footfall import connect, stats
from footfall.event import Event
from footfall.stats.summaries.catchup import catch_up
from footfall.stats.summaries.rebuild import rebuild
from footfall.stats.summaries.sketches import HLL_TYPE, LG_K, estimate

from .dataset import UTC_SITE
from .test_engine import CUSTOM

OVERVIEW = "visitors,visits,pageviews,bounce_rate,visit_duration"


def _snapshot(store: Any, site: str) -> list[tuple[Any, ...]]:
    catch_up(store)
    return store.query(
        "SELECT dim, fvalue, grain, bucket, value, visits, bounces, duration, pageviews, events,"
        " requests, bytes, errors FROM stats_rollup WHERE site = ?"
        " AND (visits, bounces, duration, pageviews, events, requests, bytes, errors)"
        " != (0, 0, 0, 0, 0, 0, 0, 0) ORDER BY 1, 2, 3, 4, 5",
        (site,),
    )


def test_retried_batches_do_not_double_count(tmp_path: Any, events: list[Any]) -> None:
    store = connect(f"sqlite:///{tmp_path / 'a.db'}")
    mine = [e for e in events if e.site == UTC_SITE][:400]
    store.write(mine)
    before = stats.query(store, UTC_SITE, period="custom", date=CUSTOM, metrics=OVERVIEW)
    rows = _snapshot(store, UTC_SITE)
    assert store.write(mine[50:250]) == 0  # retried: nothing new
    store.write([*mine[300:], *mine[:10]])  # overlapping
    assert stats.query(store, UTC_SITE, period="custom", date=CUSTOM, metrics=OVERVIEW) == before
    assert _snapshot(store, UTC_SITE) == rows
    raw = stats.query(store, UTC_SITE, period="custom", date=CUSTOM, metrics=OVERVIEW, engine="raw")
    assert raw == before


def test_rebuild_equals_write_time_summaries(tmp_path: Any, events: list[Any]) -> None:
    store = connect(f"sqlite:///{tmp_path / 'b.db'}")
    mine = [e for e in events if e.site == UTC_SITE]
    for i in range(0, len(mine), 23):
        store.write(mine[i : i + 23])
        if i % 3 == 0:
            catch_up(store, chunk=17)  # interleaved with the writes, in odd chunks
    live = _snapshot(store, UTC_SITE)
    sketches = store.query("SELECT COUNT(*) FROM stats_sketches WHERE site = ?", (UTC_SITE,))
    assert rebuild(store, UTC_SITE) == sum(not e.is_bot for e in mine)
    assert _snapshot(store, UTC_SITE) == live
    assert (
        store.query("SELECT COUNT(*) FROM stats_sketches WHERE site = ?", (UTC_SITE,)) == sketches
    )


def test_events_before_summaries_fall_back_to_raw(tmp_path: Any, events: list[Any]) -> None:
    store = connect(f"sqlite:///{tmp_path / 'c.db'}")
    mine = [e for e in events if e.site == UTC_SITE]
    store.write(mine[:200])
    # As if written by a footfall without summaries: migration 0012 then starts the
    # watermark after them, and the site is registered incomplete on its next event.
    store.conn.execute("UPDATE stats_state SET value = (SELECT MAX(rowid) FROM events)")
    store.write(mine[200:])
    q = dict(period="custom", date=CUSTOM, metrics=OVERVIEW)
    raw = stats.query(store, UTC_SITE, engine="raw", **q)
    assert stats.query(store, UTC_SITE, **q) == raw  # incomplete summaries are not used
    with pytest.raises(stats.StatsError):
        stats.query(store, UTC_SITE, engine="summary", **q)
    rebuild(store)
    assert stats.query(store, UTC_SITE, engine="summary", **q) == raw


def test_realtime(tmp_path: Any) -> None:
    store = connect(f"sqlite:///{tmp_path / 'd.db'}")
    now = datetime.now(timezone.utc)
    evs = [
        Event(
            name="pageview",
            ts=now - timedelta(minutes=1),
            site="s",
            visitor_id="a",
            visit_id="va",
            path="/",
        ),
        Event(
            name="pageview",
            ts=now - timedelta(seconds=30),
            site="s",
            visitor_id="a",
            visit_id="va",
            path="/x",
        ),
        Event(
            name="pageview",
            ts=now - timedelta(minutes=2),
            site="s",
            visitor_id="b",
            visit_id="vb",
            path="/x",
        ),
        Event(
            name="pageview",
            ts=now - timedelta(minutes=3),
            site="s",
            visitor_id="c",
            visit_id="vc",
            path="/",
        ),
        Event(
            name="pageview",
            ts=now - timedelta(minutes=9),
            site="s",
            visitor_id="d",
            visit_id="vd",
            path="/",
        ),
        Event(
            name="pageview",
            ts=now - timedelta(minutes=1),
            site="s",
            visitor_id="e",
            path="/",
            is_bot=True,
        ),
    ]
    store.write(evs)
    assert stats.realtime_visitors(store, "s", now) == 3
    assert stats.current_pages(store, "s", now) == [
        {"page": "/x", "visitors": 2},
        {"page": "/", "visitors": 1},
    ]


def test_hll_union_error_within_one_percent() -> None:
    """Daily sketches as the rollup writes them, unioned as the reader does."""
    rng = random.Random(5)
    pool = [f"visitor-{i}" for i in range(150_000)]
    days = []
    seen: set[str] = set()
    for _ in range(30):
        sk = ds.hll_sketch(LG_K, HLL_TYPE)
        for v in rng.sample(pool, 12_000):
            sk.update(v)
            seen.add(v)
        days.append(sk.serialize_compact())
    est = estimate([ds.hll_sketch.deserialize(b) for b in days])
    assert abs(est - len(seen)) / len(seen) < 0.01
    small = ds.hll_sketch(LG_K, HLL_TYPE)
    for v in pool[:2000]:
        small.update(v)
    assert (
        estimate([ds.hll_sketch.deserialize(small.serialize_compact())]) == 2000
    )  # exact while sparse
