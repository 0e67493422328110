"""`connect(url, meta=...)`: events in one store, everything else in another.

Sites, tokens, dashboard users, failed events and the processors' state
(visitor salts, open visits) go to the metadata store; events stay where
`url` says. Closing the event store closes the metadata store with it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from footfall import connect
from footfall.dashboard.auth import Users
from footfall.errors import ConfigurationError
from footfall.event import Event
from footfall.processors.state import state_for
from footfall.sites import add_site
from footfall.stores.meta import open_meta


def _tables_with_rows(path: Path, *tables: str) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {t for t in tables if conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]}


def test_metadata_go_to_the_meta_store(tmp_path: Path) -> None:
    events_db, meta_db = tmp_path / "events.db", tmp_path / "meta.db"
    store = connect(f"sqlite:///{events_db}", meta=f"sqlite:///{meta_db}")
    add_site(store, "example.com")
    Users(store).add("ann", "correct horse")
    state_for(store).salt("2026-01-01")
    store.write([Event(name="pageview", site="example.com")])
    assert store.meta_home().url == f"sqlite:///{meta_db}"
    assert [s.domain for s in open_meta(store).list_sites()] == ["example.com"]
    store.close()
    meta_tables = ("sites", "dashboard_users", "visitor_salts")
    assert _tables_with_rows(meta_db, *meta_tables, "events") == set(meta_tables)
    assert _tables_with_rows(events_db, *meta_tables, "events") == {"events"}


def test_closing_the_event_store_closes_the_meta_store(tmp_path: Path) -> None:
    store = connect(f"sqlite:///{tmp_path / 'e.db'}", meta=f"sqlite:///{tmp_path / 'm.db'}")
    held = store.meta_home().conn  # type: ignore[attr-defined]
    store.close()
    assert store.meta_home() is store
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        held.execute("SELECT 1")


def test_the_same_url_twice_is_one_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'one.db'}"
    store = connect(url, meta=url)
    assert store.meta_home() is store
    store.close()


def test_a_store_that_cannot_hold_metadata_is_refused(tmp_path: Path) -> None:
    from footfall.stores.sqlite import SQLiteStore

    class EventsOnly(SQLiteStore):
        holds_meta = False

    store = connect(f"sqlite:///{tmp_path / 'e.db'}")
    with pytest.raises(ConfigurationError, match="cannot hold"):
        store.attach_meta(EventsOnly(str(tmp_path / "m.db")))
    store.close()
