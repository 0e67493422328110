"""The bulk write fast paths keep every value exact, on every store.

The PostgreSQL store formats a batch as one COPY text buffer (pg_copy) and
the ClickHouse store builds its columns directly from the events
(ch_columns); both leave out columns empty in the whole batch. These tests
write batches mixing the characters COPY text escapes, JSON with escapes,
columns used by only some events, and events holding a value of the wrong
type (built without validation), and read every event back.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from footfall import Event
from footfall.stores import Store

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=timezone.utc)
_AWKWARD = [
    "tab\there",
    "new\nline",
    "back\\slash",
    "cr\rlf\r\n",
    "\\N",  # COPY text's NULL marker, as a literal string
    "ünïcödé ✓ 😀",
    "quote ' and \" and ,;",
    "\\t\\n literally",
]


def _mixed(n: int) -> list[Event]:
    out = []
    for i in range(n):
        odd = i % 2 == 1
        out.append(
            Event(
                name="shop.checkout" if odd else "pageview",
                ts=T0 + timedelta(seconds=i, microseconds=i * 7919 % 1_000_000),
                site="s.test",
                source="server" if odd else "browser",
                path=f"/p/{_AWKWARD[i % len(_AWKWARD)]}",
                title=_AWKWARD[(i + 3) % len(_AWKWARD)] if i % 3 == 0 else "",
                method="POST" if odd else "",
                status=200 + i % 5 if odd else 0,
                duration_ms=i / 7 if odd else 0.0,
                bytes=2**40 + i if odd else 0,
                is_bot=i % 5 == 0,
                visitor_id=f"v{i % 4}",
                props={"k": _AWKWARD[i % len(_AWKWARD)], "n": i, "deep": {"x": [1, "\\"]}}
                if i % 4 == 0
                else {},
                context={"tab\tkey": "v\\"} if i == 3 else {},
            )
        )
    return out


def _by_id(store: Store) -> dict[str, Event]:
    return {e.id: e for e in store.get_usage(limit=10_000)}


@pytest.mark.parametrize("n", [1, 2, 40])
def test_awkward_values_round_trip(store: Store, n: int) -> None:
    events = _mixed(n)
    assert store.write(events) == n
    back = _by_id(store)
    assert back == {e.id: e for e in events}


def test_a_column_used_by_one_event_of_many(store: Store) -> None:
    events = [Event(name="pageview", ts=T0 + timedelta(seconds=i), site="s") for i in range(300)]
    events[137] = Event(name="pageview", ts=T0, site="s", utm_term="only me", status=404)
    assert store.write(events) == 300
    back = _by_id(store)
    assert back[events[137].id].utm_term == "only me"
    assert back[events[137].id].status == 404
    assert sum(1 for e in back.values() if e.utm_term or e.status) == 1


def test_retry_of_a_mixed_batch_adds_nothing(store: Store) -> None:
    events = _mixed(30)
    assert store.write(events[:10]) == 10
    assert store.write(events) == 20  # the first ten are known
    assert store.write(list(reversed(events))) == 0
    assert _by_id(store) == {e.id: e for e in events}


def test_batches_sharing_a_time_range_and_batches_beyond_it(store: Store) -> None:
    """Two writers' interleaved batches, another site in range, then later events.

    ClickHouse asks whether anything is stored in a batch's range before it
    checks ids: each of these batches takes a different way through that.
    """
    events = _mixed(40)
    evens, odds = events[0::2], events[1::2]  # same range, no id in common
    assert store.write(evens) == 20
    other = [Event(name="pageview", ts=e.ts, site="other.test") for e in odds[:5]]
    assert store.write(other) == 5  # stored range, but not this site's
    assert store.write(odds) == 20
    later = [
        Event(name="pageview", ts=T0 + timedelta(hours=1, seconds=i), site="s.test")
        for i in range(5)
    ]
    assert store.write(later) == 5  # past everything stored
    assert store.write([*later, *odds[:3]]) == 0
    assert store.count() == 50


def test_unvalidated_values_of_the_wrong_type_still_store(store: Store) -> None:
    # msgspec does not check types when an Event is built directly; such an
    # event must neither be lost nor corrupt the others of its batch.
    good = _mixed(5)
    odd = Event(name="pageview", ts=T0, site="s.test", status=True, duration_ms=3)  # type: ignore[arg-type]
    assert store.write([*good, odd]) == 6
    back = _by_id(store)
    assert {e.id: e for e in good}.items() <= back.items()
    assert back[odd.id].status == 1
    assert back[odd.id].duration_ms == 3.0


def test_copy_text_escapes_and_leaves_out_empty_columns() -> None:
    from footfall.stores.pg_copy import copy_text

    events = [
        Event(name="a", id="1", ts=T0, path="x\ty"),
        Event(name="b", id="2", ts=T0, props={"q": 'say "hi"\n'}),
    ]
    text = copy_text(events)
    assert text is not None
    names, data = text
    assert set(names) == {"id", "ts", "name", "source", "path", "props"}  # site etc.: empty
    lines = data.decode().split("\n")
    assert lines[-1] == "" and len(lines) == 3  # one line per event, newline-terminated
    first = dict(zip(names, lines[0].split("\t"), strict=True))
    assert first["path"] == "x\\ty"
    assert first["ts"] == str(int(T0.timestamp()) * 1_000_000)
    second = dict(zip(names, lines[1].split("\t"), strict=True))
    assert second["props"] == '{"q":"say \\\\"hi\\\\"\\\\n"}'  # JSON's backslashes doubled


def test_copy_text_refuses_a_text_field_of_the_wrong_type() -> None:
    from footfall.stores.pg_copy import copy_text

    assert copy_text([Event(name="a", ts=T0, path=5)]) is None  # type: ignore[arg-type]
    assert copy_text([Event(name="a", ts=T0, status=2.5)]) is None  # type: ignore[arg-type]


def test_copy_slices_render_the_same_lines_as_the_whole_batch() -> None:
    """Slices are formatted one at a time inside the COPY; together they are the batch.

    The second slice alone holds a tab, a backslash and a CR, so only it takes the
    escaping path; the third holds a newline in a text value.
    """
    from footfall.stores.pg_copy import CopyPlan

    events = [Event(name="a", id=f"{i:03d}", ts=T0, path=f"/p{i}") for i in range(9)]
    events[4].path = "/t\tab\\x\r"
    events[4].title = "tab\there"
    events[7].referrer = "line\nbreak"
    events[8].status = 404
    plan = CopyPlan(events)
    whole = plan.render()
    parts = plan.render(0, 3) + plan.render(3, 6) + plan.render(6, 9)
    assert parts == whole
    lines = whole.decode().split("\n")[:-1]
    assert len(lines) == 9
    rows = [dict(zip(plan.names, line.split("\t"), strict=True)) for line in lines]
    assert rows[4]["path"] == "/t\\tab\\\\x\\r" and rows[4]["title"] == "tab\\there"
    assert rows[7]["referrer"] == "line\\nbreak"
    assert rows[8]["status"] == "404" and rows[0]["status"] == "0"
    assert rows[0]["path"] == "/p0" and rows[0]["title"] == ""


def test_lenient_render_converts_what_strict_refuses() -> None:
    from footfall.stores.pg_copy import CopyPlan

    events = [
        Event(name="a", id="1", ts=T0, path=5, status=True),  # type: ignore[arg-type]
        Event(name="b", id="2", ts=T0, path="/x\ty", status=200.0),  # type: ignore[arg-type]
    ]
    plan = CopyPlan(events)
    with pytest.raises(TypeError):
        plan.render()
    rows = [
        dict(zip(plan.names, line.split("\t"), strict=True))
        for line in plan.render(lenient=True).decode().split("\n")[:-1]
    ]
    assert [r["path"] for r in rows] == ["5", "/x\\ty"]
    assert [r["status"] for r in rows] == ["1", "200"]


def test_postgres_converts_values_of_the_wrong_type(tmp_path: Path) -> None:
    from tests.stores.backends import postgres_store

    store = postgres_store(tmp_path)
    try:
        events = [*_mixed(4), Event(name="pageview", ts=T0, site="s.test", path=5)]  # type: ignore[arg-type]
        assert store.write(events) == 5
        assert store.write(events) == 0
        assert _by_id(store)[events[-1].id].path == "5"
    finally:
        store.close()


def test_postgres_url_keeps_libpq_options_with_spaces(tmp_path: Path) -> None:
    pytest.importorskip("psycopg")
    from tests.services import need_postgres, with_query

    from footfall.stores.postgres import PostgresStore, split_url

    url, _, _ = split_url("postgresql://h/db?schema=s&options=-c%20synchronous_commit%3Doff")
    assert url == "postgresql://h/db?options=-c%20synchronous_commit%3Doff"  # not "+"
    store = PostgresStore(with_query(need_postgres(), options="-c%20synchronous_commit%3Doff"))
    try:
        assert store.query("SHOW synchronous_commit") == [("off",)]
    finally:
        store.close()


def test_a_tracker_batches_what_its_store_prefers(store: Store) -> None:
    """ClickHouse asks for big batches (a part per INSERT); the others take the default."""
    from footfall import Tracker
    from footfall.delivery.worker import DEFAULT_BATCH_SIZE

    tracker = Tracker([store], name="batch-hint")
    try:
        expected = 50_000 if store.dialect == "clickhouse" else DEFAULT_BATCH_SIZE
        assert tracker.worker.batch_size == expected
        tracker.send(Event(name="pageview", ts=T0, site="hint.test"))
        assert tracker.flush(30)
        assert store.count() == 1
    finally:
        tracker.worker.close(5)


def test_the_redis_worker_reads_enough_entries_for_its_store(store: Store) -> None:
    from footfall.delivery.stream_worker import DEFAULT_BATCH, default_batch

    assert default_batch(store) == (50 if store.dialect == "clickhouse" else DEFAULT_BATCH)
