"""The dashboard names the imported data its figures include, and leaves them out on request.

A real server over a SQLite store holding two visits of footfall's own and
the Plausible export of tests/data/plausible; Chromium reads the page
(`FOOTFALL_SCREENSHOTS=1` refreshes docs/screenshots/imported.png).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.stats.test_imported_merge import NATIVE, SITE, export_zip, total

from footfall import connect
from footfall.importers.plausible import plausible_import
from footfall.stores.meta import Site, open_meta
from services import chromium

from .browser import Watch, screenshot_dir, wait_loaded
from .conftest import LiveServer, start_server

VIEW = "?period=custom&date=2024-01-01%2C2024-01-03"


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("imported")
    db_url = f"sqlite:///{folder / 'footfall.db'}"
    store = connect(db_url)
    try:
        open_meta(store).add_site(Site(SITE, "UTC", True))
        store.write(NATIVE)
        plausible_import(store, SITE, [export_zip(folder)])
    finally:
        store.close()
    for url in start_server(db_url):
        yield LiveServer(url, db_url)


def test_page_names_the_import_and_its_switch(imported: LiveServer) -> None:
    page = httpx.get(f"{imported.url}/{SITE}{VIEW}").text
    assert "Includes data imported from" in page
    assert "imported from Plausible, 2024-01-01 \u2013 2024-01-03" in page
    assert 'data-with-imported="true"' in page
    off = httpx.get(f"{imported.url}/{SITE}{VIEW}&imported=off").text
    assert "Leaving out data imported from" in off
    assert 'data-with-imported="false"' in off


def test_a_period_without_imported_days_names_no_import(imported: LiveServer) -> None:
    later = "?period=custom&date=2024-01-04%2C2024-01-31"
    for view in (later, "?period=30d", f"{later}&imported=off"):
        page = httpx.get(f"{imported.url}/{SITE}{view}").text
        assert "imported-note" not in page, view
    overlapping = httpx.get(f"{imported.url}/{SITE}?period=custom&date=2024-01-03%2C2024-01-31")
    assert "imported from Plausible, 2024-01-01 \u2013 2024-01-03" in overlapping.text


@pytest.mark.browser
@pytest.mark.slow
def test_toggle_in_chromium(imported: LiveServer, tmp_path: Path) -> None:
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page: Any = context.new_page()
        page.set_default_timeout(90_000)
        watch = Watch()
        watch.attach(page)
        page.goto(f"{imported.url}/{SITE}{VIEW}")
        wait_loaded(page)
        visitors = page.locator("#topline .stat[data-metric=visitors] [data-value]")
        assert visitors.inner_text() == str(2 + total("visitors", "visitors"))
        folder = screenshot_dir(tmp_path)
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / "imported.png"), full_page=False)
        page.click("#imported-toggle")
        page.wait_for_url("**imported=off**")
        wait_loaded(page)
        assert visitors.inner_text() == "2"
        assert "Leaving out" in page.locator("#imported-note").inner_text()
        # A goal filter: imported data cannot answer it, and the note says so.
        page.goto(f"{imported.url}/{SITE}{VIEW}&filters=event%3Agoal%3D%3DSignup")
        wait_loaded(page)
        note = page.locator("#imported-note").inner_text()
        assert "not included" in note and "Includes" not in note, note
        assert not watch.errors and not watch.dialogs
        context.close()
