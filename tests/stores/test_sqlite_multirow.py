"""SQLiteStore inserts a batch as multi-row VALUES statements: same results as one
INSERT per row (order, duplicates, every column), across statement boundaries."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from footfall import connect
from footfall.event import Event
from footfall.stores import sqlite as sq


def test_batch_across_statements_keeps_first_of_duplicates(tmp_path: Path) -> None:
    store = connect(f"sqlite:///{tmp_path / 'm.db'}")
    t0 = datetime(2026, 10, 1, tzinfo=timezone.utc)
    n = sq.ROWS_PER_STATEMENT * 2 + 37
    events = [
        Event(
            name="pageview" if i % 3 else "shop.checkout",
            ts=t0 + timedelta(seconds=i),
            site="a.example",
            path=f"/p/{i}",
            visitor_id=f"v{i % 17}",
            props={"i": i} if i % 5 == 0 else {},
            status=200 + i % 2,
            duration_ms=i / 4,
            is_bot=i % 11 == 0,
        )
        for i in range(n)
    ]
    dup = Event(id=events[700].id, name="other", ts=t0, site="a.example", path="/dup")
    assert store.write([*events[:700], dup, *events[700:]]) == n  # dup before its original
    stored = {e.id: e for e in store.get_usage(limit=10_000)}
    assert len(stored) == n
    assert stored[events[700].id].path == "/dup"  # the first of the two ids won
    for e in events[:700] + events[701:]:
        got = stored[e.id]
        assert (got.name, got.ts, got.path, got.props, got.status, got.duration_ms, got.is_bot) == (
            e.name,
            e.ts,
            e.path,
            e.props,
            e.status,
            e.duration_ms,
            e.is_bot,
        )
    assert store.write(events) == 0  # a retried batch adds nothing
    store.close()
