"""What a store can do is declared on `Store`, and the stats engine reaches it through hooks."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from footfall import Event, connect
from footfall.processors.state import MemoryState, state_for
from footfall.stats.summaries.catchup import catch_up, lag
from footfall.stats.summaries.clickhouse_compact import has_summaries
from footfall.stats.summaries.site_status import site_complete
from footfall.stores import Store
from footfall.stores.base import SUMMARIES_FOLDED, SUMMARIES_VIEWS
from footfall.stores.meta import open_meta

T0 = datetime(2026, 3, 2, 12, tzinfo=timezone.utc)


def test_every_store_declares_what_it_can_do(store: Store) -> None:
    store.write([Event(name="pageview", site="a.example", ts=T0, visitor_id="v")])
    assert store.dialect in ("sqlite", "postgres", "clickhouse")
    assert store.stats_dialect().name == store.dialect
    if store.holds_meta:
        assert open_meta(store).list_sites() == []
    else:
        with pytest.raises(NotImplementedError):
            open_meta(store)
    if store.summaries == SUMMARIES_FOLDED:
        catch_up(store)
        assert lag(store) == 0
    elif store.summaries == SUMMARIES_VIEWS:
        assert has_summaries(store) and lag(store) == 0
    else:  # ClickHouse behind a Buffer table: the stats read raw events
        assert lag(store) is None
    shared = store.processor_state() is not None
    assert shared == (store.dialect != "clickhouse")
    assert isinstance(state_for(store), MemoryState) != shared


def test_a_purge_from_plain_python_marks_the_summaries_incomplete(tmp_path: Path) -> None:
    """`import footfall` alone registers the summaries' delete hooks, without importing
    the stats engine, so a purge from a script still tells the summaries."""
    url = f"sqlite:///{tmp_path / 'f.db'}"
    store = connect(url)
    try:
        store.write([Event(name="pageview", site="a.example", ts=T0) for _ in range(3)])
        catch_up(store)
        assert site_complete(store, "a.example")
        script = (
            "import sys, datetime, footfall\n"
            f"store = footfall.connect({url!r})\n"
            "assert 'footfall.stats' not in sys.modules, 'the stats engine was imported'\n"
            "print(store.purge(datetime.datetime(2100, 1, 1, tzinfo=datetime.timezone.utc)))\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "3"
        assert not site_complete(store, "a.example")
    finally:
        store.close()
