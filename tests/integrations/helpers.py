"""Helpers for the integration tests."""

from __future__ import annotations

from footfall import Event, Tracker, connect
from footfall.stores.base import Store


def read_events(tracker: Tracker, url: str) -> list[Event]:
    """Flush `tracker`, then read what reached the store at `url`, oldest first."""
    assert tracker.flush(timeout=30), "tracker did not flush in time"
    store: Store = connect(url)
    try:
        return list(reversed(store.get_usage(limit=1000)))
    finally:
        store.close()
