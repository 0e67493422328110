"""The dashboard over a store whose summaries are still folding a backlog.

Real server (uvicorn in a thread), real SQLite file, real Chromium. The events
are stored unfolded and the server's own catch-up thread is off, so the first
stats reads are refused with 503 "catching up" and Retry-After: the page shows
that reason, retries after Retry-After, and then shows the full numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from footfall import connect
from footfall.event import Event
from footfall.stats.summaries import catchup
from footfall.stats.summaries.catchup import lag, wait_for_background
from footfall.stores.meta import Site, open_meta

from .conftest import start_server

SITE = "backlog.example"
VISITORS = 600


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any]]:
    url = f"sqlite:///{tmp_path / 'backlog.db'}"
    store = connect(url)
    open_meta(store).add_site(Site(SITE, "UTC", True))
    start = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    events = [
        Event(
            name="pageview",
            ts=start - timedelta(hours=1 + i % 24, seconds=page),
            site=SITE,
            path=f"/p{page}",
            visitor_id=f"v{i}",
            visit_id=f"s{i}",
        )
        for i in range(VISITORS)
        for page in range(4)
    ]
    for i in range(0, len(events), 200):
        store.write(events[i : i + 200])
    assert lag(store) == len(events)
    monkeypatch.setenv("FOOTFALL_CATCHUP_SECONDS", "0")  # only the reads fold
    monkeypatch.setattr(catchup, "INLINE_SECONDS", 0.001)
    monkeypatch.setattr(catchup, "INLINE_CHUNK", 50)
    try:
        for base in start_server(url):
            yield base, store
    finally:
        wait_for_background(store, 60)
        store.close()


def test_dashboard_shows_catching_up_and_retries(server: tuple[str, Any]) -> None:
    from services import chromium

    base, store = server
    with chromium() as browser:
        page: Any = browser.new_page()
        page.set_default_timeout(60_000)
        page.goto(f"{base}/{SITE}?period=7d")
        notice = page.wait_for_selector("#ff-retry-notice")
        shown = notice.text_content()
        page.wait_for_selector("#ff-retry-notice", state="detached")
        page.wait_for_function(
            "() => document.querySelector('#topline [data-metric=visitors] [data-value]')"
            ".textContent === '600'"
        )
        page.close()
    assert "catching up with" in shown and "new events" in shown, shown
    assert lag(store) == 0
