"""ClickHouse's summaries answer exactly what the raw SQL answers (summaries.clickhouse_read).

Every comparison is with SQLite's raw-SQL engine over the same events, on
Debian's ClickHouse 18.16 server and on current ClickHouse (chDB): totals and
every interval for a UTC site and a site whose days cross a DST change, with
the visit counters grouped live, compacted, and compacted then changed by
late events. Deletes and the rebuild run on the real server.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from tests.stats.dataset import DAYS, START, TZ, TZ_SITE, UTC_SITE, build
from tests.stores.backends import clickhouse_buffered_store, clickhouse_store

from footfall import connect, stats
from footfall.event import Event
from footfall.stats.errors import StatsError
from footfall.stats.summaries import clickhouse_compact, clickhouse_sql
from footfall.stats.summaries.rebuild import _wait_for_mutations, rebuild
from footfall.stores import ch_views
from footfall.stores.base import EventFilter
from footfall.stores.migrate import load_migrations

CUSTOM = f"{START},{START + timedelta(days=DAYS - 1)}"
METRICS = (
    "visitors,visits,pageviews,events,views_per_visit,bounce_rate,visit_duration,"
    "requests,bytes,error_rate"
)
SHAPES = [
    ("aggregate", "date"),
    ("timeseries", "hour"),
    ("timeseries", "date"),
    ("timeseries", "week"),
    ("timeseries", "month"),
]


def _chdb(tmp_path: Path) -> Any:
    pytest.importorskip("chdb", reason="chdb is a dev dependency")
    from tests.stores.chdb_store import ChdbStore

    return ChdbStore(tmp_path / "chdb")


BACKENDS = {"clickhouse": clickhouse_store, "clickhouse-chdb": _chdb}


def _write(store: Any, events: list[Event], size: int = 37) -> None:
    for i in range(0, len(events), size):
        store.write(events[i : i + size])


# Every breakdown the summaries answer, with all the metrics they answer it with.
BREAKDOWNS = [
    *[(p, "visitors,pageviews,events") for p in ("event:page", "event:hostname", "event:name")],
    *[
        (
            f"visit:{d}",
            "visitors,visits,pageviews,events,views_per_visit,bounce_rate,visit_duration",
        )
        for d in clickhouse_sql.VISIT_DIMS
    ],
]


def _differences(reference: Any, store: Any, period: str = CUSTOM) -> list[Any]:
    """Every (site, shape) whose summary answer differs from SQLite's raw one."""
    out = []
    for site, tz in ((UTC_SITE, "UTC"), (TZ_SITE, TZ)):
        shapes = [(kind, interval, None, METRICS) for kind, interval in SHAPES]
        shapes += [("breakdown", "date", prop, metrics) for prop, metrics in BREAKDOWNS]
        for kind, interval, prop, metrics in shapes:
            kw = dict(period="custom", date=period, metrics=metrics, tz=tz, kind=kind)
            kw.update(interval=interval, limit=1000)
            if prop is not None:
                kw["property"] = prop
            want = stats.query(reference, site, engine="raw", **kw)
            got = stats.query(store, site, engine="summary", **kw)
            if got != want:
                out.append((site, kind, interval, prop, want, got))
    return out


@pytest.fixture(scope="module")
def dataset() -> list[Event]:
    return build()


@pytest.fixture(params=sorted(BACKENDS))
def store(request: Any, tmp_path: Path) -> Iterator[Any]:
    made = BACKENDS[request.param](tmp_path)
    yield made
    made.close()


@pytest.fixture
def reference(tmp_path: Path) -> Iterator[Any]:
    made = connect(f"sqlite:///{tmp_path / 'ref.db'}")
    yield made
    made.close()


def test_live_compacted_and_changed_again_all_agree(
    store: Any, reference: Any, tmp_path: Path, dataset: list[Event]
) -> None:
    first, late = dataset[:-80], dataset[-80:]
    earlier = connect(f"sqlite:///{tmp_path / 'first.db'}")
    try:
        _write(earlier, first)
        _write(store, first)
        # Nothing compacted yet: every hour's visits are grouped from the visit parts.
        assert _differences(earlier, store) == []
        assert clickhouse_compact.compact(store, settle=0) > 0
        assert _differences(earlier, store) == []
    finally:
        earlier.close()
    _write(reference, dataset)
    _write(store, late, size=7)  # newer than the compaction: those hours are live again
    assert _differences(reference, store) == []
    assert clickhouse_compact.compact(store, settle=0) > 0
    assert _differences(reference, store) == []
    assert clickhouse_compact.compact(store, settle=0) == 0  # nothing new: nothing recomputed


def test_out_of_order_batches_after_compaction(
    store: Any, reference: Any, dataset: list[Event]
) -> None:
    """Visits arrive in pieces, days out of order, with a compaction in between:
    an early event landing after its visit was compacted moves the visit's start."""
    shuffled = list(dataset)
    random.Random(5).shuffle(shuffled)
    half = len(shuffled) // 2
    _write(reference, shuffled)
    _write(store, shuffled[:half], size=23)
    clickhouse_compact.compact(store, settle=0)
    _write(store, shuffled[half:], size=23)
    assert _differences(reference, store) == []
    clickhouse_compact.compact(store, settle=0)
    assert _differences(reference, store) == []


def test_a_visit_whose_start_moves_an_hour_earlier(store: Any, reference: Any) -> None:
    """The compacted row of the visit's old start hour must not be trusted after
    an earlier event of the same visit arrives (the window reaches back too)."""
    t = datetime(2026, 10, 12, 10, 20, tzinfo=timezone.utc)
    common = dict(site=UTC_SITE, visitor_id="v1", visit_id="visit-1")
    later = [
        Event(name="pageview", ts=t + timedelta(minutes=m), path="/", **common) for m in (0, 5)
    ]
    earlier = [Event(name="pageview", ts=t - timedelta(minutes=30), path="/a", **common)]
    _write(reference, later + earlier)
    _write(store, later)
    clickhouse_compact.compact(store, settle=0)
    _write(store, earlier)
    assert _differences(reference, store) == []
    day = stats.query(store, UTC_SITE, period="day", date="2026-10-12", engine="summary")
    assert day == stats.query(reference, UTC_SITE, period="day", date="2026-10-12", engine="raw")


def test_only_settled_hours_are_compacted(store: Any, dataset: list[Event]) -> None:
    _write(store, dataset)
    assert clickhouse_compact.compact(store, settle=3600) == 0  # every insert is fresh
    todo, _, _ = clickhouse_compact.pending_hours(store, settle=0)
    assert set(todo) == {UTC_SITE, TZ_SITE}
    assert clickhouse_compact.compact(store, settle=0) == sum(len(h) for h in todo.values())


def test_what_summaries_do_not_answer(store: Any, dataset: list[Event]) -> None:
    _write(store, dataset)
    for params, why in (
        (dict(filters="visit:country==DE"), "filters"),
        (dict(kind="breakdown", property="visit:user_id"), "breakdowns need raw"),
        (dict(kind="breakdown", property="event:props:plan"), "breakdowns need raw"),
        (dict(kind="breakdown", property="event:page", metrics="visits"), "not summarised"),
        (dict(metrics="duration_p95"), "duration_p95"),
        (dict(tz="Asia/Kolkata"), "whole UTC hours"),  # local days start at :30
    ):
        kw: dict[str, Any] = dict(period="custom", date=CUSTOM, engine="summary", **params)
        with pytest.raises(StatsError, match=why):
            stats.query(store, UTC_SITE, **kw)


def test_a_delete_marks_the_site_incomplete_until_rebuilt(
    tmp_path: Path, reference: Any, dataset: list[Event]
) -> None:
    store = clickhouse_store(tmp_path)
    try:
        _write(store, dataset)
        _write(reference, dataset)
        clickhouse_compact.compact(store, settle=0)
        store.delete_visitor(f"{UTC_SITE[:3]}-v1", site=UTC_SITE)
        reference.delete_visitor(f"{UTC_SITE[:3]}-v1", site=UTC_SITE)
        q = dict(period="custom", date=CUSTOM, metrics=METRICS)
        with pytest.raises(StatsError, match="not complete"):
            stats.query(store, UTC_SITE, engine="summary", **q)
        # auto: the raw SQL answers, without the deleted visitor
        assert stats.query(store, UTC_SITE, **q) == stats.query(reference, UTC_SITE, **q)
        assert stats.query(store, TZ_SITE, engine="summary", **q)  # the other site is intact
        assert rebuild(store, UTC_SITE) == store.count(filters=EventFilter(site=UTC_SITE))
        assert _differences(reference, store) == []
    finally:
        store.close()


def test_events_stored_before_the_migration_need_a_rebuild(
    tmp_path: Path, reference: Any, dataset: list[Event]
) -> None:
    store = clickhouse_store(tmp_path)
    try:
        for table in (*clickhouse_sql.SUMMARY_TABLES, "stats_sites", "stats_state"):
            store.query(f"DROP TABLE IF EXISTS {table}")
        for view in ch_views.MV_SELECTS:
            store.query(f"DROP TABLE IF EXISTS {view}_mv")
        store.query("ALTER TABLE footfall_migrations DELETE WHERE version = 2")
        _wait_for_mutations(store)
        _write(store, dataset)  # before the summaries exist
        _write(reference, dataset)
        assert store.migrate() == ["0002_stats_summaries"]
        q = dict(period="custom", date=CUSTOM, metrics=METRICS)
        with pytest.raises(StatsError, match="not complete"):
            stats.query(store, UTC_SITE, engine="summary", **q)
        assert rebuild(store) == len({e.id for e in dataset})
        assert _differences(reference, store) == []
    finally:
        store.close()


def test_not_with_a_buffer_table(tmp_path: Path, dataset: list[Event]) -> None:
    store = clickhouse_buffered_store(tmp_path)
    try:
        _write(store, dataset[:50])
        assert not clickhouse_compact.has_summaries(store)
        with pytest.raises(StatsError):
            stats.query(store, UTC_SITE, period="custom", date=CUSTOM, engine="summary")
    finally:
        store.close()


def test_views_are_filled_from_one_select_each() -> None:
    (m,) = [m for m in load_migrations("clickhouse") if m.name == "stats_summaries"]
    text = "\n".join(ch_views.migration_statements(m))
    assert "{stats_" not in text
    for table, select in ch_views.MV_SELECTS.items():
        assert f"TO {table} AS {select}" in text
        assert ch_views.view_ddl(table) in text
        assert ch_views.mv_select(table).startswith(select.split(" GROUP BY")[0])


def test_summaries_off_drops_the_views_and_on_brings_them_back(
    tmp_path: Path, reference: Any, dataset: list[Event]
) -> None:
    from footfall.stores.clickhouse import ClickHouseStore

    store = clickhouse_store(tmp_path)
    half = len(dataset) // 2
    try:
        _write(store, dataset[:half])
        _write(reference, dataset)
        off = ClickHouseStore(f"{store.url}?summaries=off")
        try:
            off.migrate()
            assert off.query(
                "SELECT count() FROM system.tables WHERE database = currentDatabase()"
                " AND endsWith(name, '_mv')"
            ) == [(0,)]
            _write(off, dataset[half:])  # no view sees these
            assert not clickhouse_compact.has_summaries(off)
            # A store opened without the option (a dashboard process) stops trusting them.
            with pytest.raises(StatsError, match="not complete"):
                stats.query(store, UTC_SITE, period="custom", date=CUSTOM, engine="summary")
            assert stats.query(store, UTC_SITE, period="custom", date=CUSTOM) == stats.query(
                reference, UTC_SITE, period="custom", date=CUSTOM
            )
            with pytest.raises(StatsError):
                stats.query(off, UTC_SITE, period="custom", date=CUSTOM, engine="summary")
        finally:
            off.close()
        store.migrate()  # summaries on again: the views come back, the sites are incomplete
        q = dict(period="custom", date=CUSTOM, metrics=METRICS)
        with pytest.raises(StatsError, match="not complete"):
            stats.query(store, UTC_SITE, engine="summary", **q)
        rebuild(store)
        assert _differences(reference, store) == []
    finally:
        store.close()


def test_the_server_thread_compacts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dataset: list[Event]
) -> None:
    """`footfall serve` starts its catch-up thread for ClickHouse too; there it compacts."""
    import time

    from footfall.stats.summaries.thread import start_catch_up

    monkeypatch.setenv("FOOTFALL_CH_SETTLE_SECONDS", "0")
    monkeypatch.setenv("FOOTFALL_CATCHUP_SECONDS", "0.05")
    store = clickhouse_store(tmp_path)
    try:
        _write(store, dataset)
        thread = start_catch_up(store)
        assert thread is not None
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if clickhouse_compact.pending_hours(store, settle=0)[0] == {}:
                    break
                time.sleep(0.1)
            assert clickhouse_compact.pending_hours(store, settle=0)[0] == {}
            assert store.query("SELECT count() FROM stats_visit_hours")[0][0] > 0
        finally:
            thread.stop()
    finally:
        store.close()


def test_newest_mark_within_a_day_is_a_sliding_maximum() -> None:
    from footfall.stats.summaries.clickhouse_read import _newest_within

    rng = random.Random(3)
    marks = {h: (rng.randint(1, 10_000), 1) for h in range(0, 400) if rng.random() < 0.3}
    got = _newest_within(marks, 30, 330)
    want = [
        max((marks[x][0] for x in range(h - 24, h + 25) if x in marks), default=0)
        for h in range(30, 330)
    ]
    assert got == want


def test_a_stats_read_starts_a_compaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dataset: list[Event]
) -> None:
    import time

    monkeypatch.setenv("FOOTFALL_CH_SETTLE_SECONDS", "0")
    store = clickhouse_store(tmp_path)
    try:
        _write(store, dataset)
        # Marks have 1 s resolution: wait until the server's clock is past the newest one.
        newest = store.query("SELECT toUInt32(now())")[0][0]
        deadline = time.monotonic() + 10
        while store.query("SELECT toUInt32(now())")[0][0] <= newest:
            assert time.monotonic() < deadline, "the server's clock did not move"
            time.sleep(0.05)
        stats.query(store, UTC_SITE, period="custom", date=CUSTOM, engine="summary")
        deadline = time.monotonic() + 30
        while clickhouse_compact.pending_hours(store, settle=0)[0] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert clickhouse_compact.pending_hours(store, settle=0)[0] == {}
        assert store.query("SELECT count() FROM stats_visit_hours")[0][0] > 0
    finally:
        store.close()


def test_whole_days_are_read_from_day_rows(store: Any, reference: Any) -> None:
    """A day with events in every hour is read from its day rows (one sketch per
    value), and gives the same breakdowns as its 24 hour rows would."""
    from footfall.stats.summaries.clickhouse_read import _split, _triples

    start = datetime(2026, 10, 12, tzinfo=timezone.utc)
    rng = random.Random(9)
    events = []
    for h in range(72):
        for v in range(3):
            visitor = f"v{rng.randrange(40)}"
            t = start + timedelta(hours=h, minutes=rng.randrange(50))
            common = dict(site=UTC_SITE, visitor_id=visitor, visit_id=f"visit-{h}-{v}")
            common.update(country=rng.choice(["DE", "FR", "US"]), referrer_source="Google")
            for step in range(rng.randint(1, 3)):
                page = rng.choice(["/", "/a", "/b"])
                ts = t + timedelta(minutes=step)
                events.append(Event(name="pageview", ts=ts, path=page, **common))
    _write(reference, events)
    _write(store, events)
    clickhouse_compact.compact(store, settle=0)
    hours = list(range(int(start.timestamp()) // 3600, int(start.timestamp()) // 3600 + 72))
    marks = {
        int(r[0]): (int(r[1]), int(r[2]))
        for r in store.query(
            clickhouse_sql.HOUR_ROWS, {"site": UTC_SITE, "lo": hours[0] - 24, "hi": hours[-1] + 25}
        )
    }
    trusted, live = _split(store, UTC_SITE, hours, marks)
    assert live == []
    for table, dim in (("stats_visit_dims", "country"), ("stats_event_dims", "page")):
        triples = _triples(store, table, UTC_SITE, dim, hours, trusted)
        assert [t[:2] for t in triples if t[0] == 1] == [
            (1, hours[0]),
            (1, hours[24]),
            (1, hours[48]),
        ]
    period = "2026-10-12,2026-10-14"
    for prop, metrics in BREAKDOWNS:
        kw = dict(period="custom", date=period, metrics=metrics, tz="UTC", kind="breakdown")
        kw.update(property=prop, limit=1000)
        want = stats.query(reference, UTC_SITE, engine="raw", **kw)
        assert stats.query(store, UTC_SITE, engine="summary", **kw) == want, prop


def test_a_purge_keeps_later_ranges_summarised(
    tmp_path: Path, reference: Any, dataset: list[Event]
) -> None:
    """`footfall purge` (daily on 18.16, which has no TTL) removes whole old hours:
    ranges from a day past the cut-off still come from the summaries, exactly."""
    store = clickhouse_store(tmp_path)
    try:
        _write(store, dataset)
        _write(reference, dataset)
        clickhouse_compact.compact(store, settle=0)
        cut = datetime.combine(START + timedelta(days=10), datetime.min.time(), timezone.utc)
        store.purge(cut)
        reference.purge(cut)
        later = f"{START + timedelta(days=12)},{START + timedelta(days=DAYS - 1)}"
        assert _differences(reference, store, later) == []
        with pytest.raises(StatsError, match="not complete"):  # reaches back past the cut
            stats.query(store, UTC_SITE, period="custom", date=CUSTOM, engine="summary")
    finally:
        store.close()


def test_breakdown_rows_written_twice_count_once(
    store: Any, reference: Any, dataset: list[Event]
) -> None:
    """Two compactions in one second write the same breakdown rows twice: the
    counters are taken once per row, and the sketches (read without that step)
    count each visitor once."""
    _write(store, dataset)
    _write(reference, dataset)
    clickhouse_compact.compact(store, settle=0)
    for table in clickhouse_sql.DIM_TABLES:  # fixed names
        before = int(store.query(f"SELECT count() FROM {table}")[0][0])
        store.query(f"INSERT INTO {table} SELECT * FROM {table}")
        assert int(store.query(f"SELECT count() FROM {table}")[0][0]) == 2 * before > 0
    assert _differences(reference, store) == []
