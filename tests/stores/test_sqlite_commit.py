"""A SQLite COMMIT that cannot finish ends its transaction, so the next write can begin."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest

from footfall import Event
from footfall.stores import sqlite as sqlite_store
from footfall.stores.sqlite import SQLiteStore

T0 = datetime(2026, 3, 2, 12, tzinfo=timezone.utc)


def _batch(tag: str, n: int) -> list[Event]:
    return [Event(name="pageview", site="a.example", ts=T0, path=f"/{tag}/{i}") for i in range(n)]


def test_a_commit_still_locked_at_the_deadline_rolls_back_and_the_next_write_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a rollback journal (SQLite's mode where WAL is not available), a COMMIT
    needs every reader gone; a reader that stays past the store's patience makes
    the COMMIT fail. The batch must then be rolled back, not left open on the
    connection, where every later BEGIN fails with "cannot start a transaction
    within a transaction"."""
    # The store waits up to 2 minutes for a lock; this test waits a fraction of a second.
    monkeypatch.setattr(sqlite_store, "BUSY_TIMEOUT_MS", 20)
    monkeypatch.setattr(sqlite_store, "BUSY_RETRY_SECONDS", 0.1)
    db = tmp_path / "f.db"
    store = SQLiteStore(db)
    reader = sqlite3.connect(db, isolation_level=None, timeout=5)
    try:
        store.migrate()
        assert store.conn.execute("PRAGMA journal_mode = DELETE").fetchone() == ("delete",)
        reader.execute("BEGIN")
        assert reader.execute("SELECT COUNT(*) FROM events").fetchone() == (0,)  # a shared lock
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            store.write(_batch("held", 3))
        reader.execute("ROLLBACK")

        assert store.write(_batch("after", 2)) == 2
        assert sorted(e.path for e in store.get_usage()) == ["/after/0", "/after/1"]
    finally:
        reader.close()
        store.close()
