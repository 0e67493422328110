"""Annotations on the chart and a saved funnel, in Chromium against a real server.

The store is a fixed month (tests/dashboard/saved_data.py), so the funnel's
numbers are known (120, 60, 20) and the screenshots are the same every run
(`FOOTFALL_SCREENSHOTS=1` refreshes docs/screenshots/annotations.png and
funnel-saved.png).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .browser import Watch, log_in, screenshot_dir, wait_loaded
from .conftest import LiveServer
from .saved_data import FUNNEL, HOSTILE, PERIOD, SITE, shop

__all__ = ["shop"]  # the fixture, imported for pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def shot(tmp_path: Path) -> Callable[[Any, str], None]:
    folder = screenshot_dir(tmp_path)

    def take(page: Any, name: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    return take


def _counts(page: Any) -> list[int]:
    cells = page.locator("#funnel-result tbody tr td:nth-child(2)").all_inner_texts()
    return [int(t.replace(",", "")) for t in cells]


def test_annotate_the_chart_then_save_a_funnel_from_picked_steps(
    page: Any, shop: LiveServer, shot: Callable[[Any, str], None]
) -> None:
    watch = Watch()
    watch.attach(page)
    base = shop.url
    log_in(page, base, shop.user, shop.password)
    page.goto(f"{base}/{SITE}{PERIOD}")
    wait_loaded(page)

    # The stored annotations are markers on the chart; the hostile one is text.
    page.wait_for_selector("#chart .annotation-marker[data-date='2026-11-27']")
    hostile = page.locator("#chart .annotation-marker[data-date='2026-11-20']")
    assert hostile.get_attribute("title") == f"2026-11-20: {HOSTILE}"
    assert page.evaluate("() => window.__annotationRan") is None
    assert page.locator("#chart img, #annotations img, #chart script").count() == 0

    # Remove it from the list under the chart, then add one through the form.
    page.click("#annotation-list li[data-date='2026-11-20'] .annotation-remove")
    page.wait_for_url(re.compile(r"period=custom&date=2026-11-01%2C2026-11-30$"))
    wait_loaded(page)
    assert page.locator("#annotation-list li[data-date='2026-11-20']").count() == 0
    page.click(".annotation-add summary")
    page.fill("#annotation-form input[name=day]", "2026-11-12")
    page.fill("#annotation-form input[name=text]", "Launched pricing page")
    page.click("#annotation-form button[type=submit]")
    page.wait_for_url(re.compile(r"period=custom&date=2026-11-01%2C2026-11-30$"))
    wait_loaded(page)
    marker = page.locator("#chart .annotation-marker[data-date='2026-11-12']")
    marker.wait_for()
    assert page.locator("#chart .annotation-marker").count() == 2
    assert marker.get_attribute("title") == "2026-11-12: Launched pricing page"
    # The marker sits on its day: between the 11th and the 13th of the x axis.
    box = marker.bounding_box()
    over = page.locator("#chart .u-over").bounding_box()
    assert box is not None and over is not None
    assert 0.30 < (box["x"] - over["x"]) / over["width"] < 0.45  # day 12 of 30
    marker.locator(".annotation-flag").hover()
    label = marker.locator(".annotation-label")
    assert label.is_visible() and label.inner_text() == "2026-11-12: Launched pricing page"
    page.locator("#chart-title").scroll_into_view_if_needed()
    shot(page, "annotations")

    # A funnel from picked steps: a page, a page goal, an event goal.
    page.click("#funnel-link")
    page.wait_for_url(re.compile(r"/shop\.test/funnel\?period=custom"))
    assert page.locator("#funnel-csv").is_hidden()  # no steps: nothing to export yet
    selects = page.locator("#funnel-form select[name=step]")
    selects.nth(0).select_option(label="/")
    selects.nth(1).select_option(label="Visit /pricing")
    selects.nth(2).select_option(label="Signup")
    page.click("#funnel-form button[type=submit]")
    page.wait_for_selector("#funnel-result tbody tr:nth-child(3)")
    assert _counts(page) == list(FUNNEL)
    labels = page.locator("#funnel-result tbody tr td.label").all_inner_texts()
    assert labels == ["/", "Visit /pricing", "Signup"]  # as picked, not as filter syntax

    page.fill("#funnel-save-name", "Signup funnel")
    page.click("#funnel-save button[type=submit]")
    page.wait_for_url(
        re.compile(r"/shop\.test/funnel\?period=custom&date=[^&]+&name=Signup\+funnel$")
    )
    page.wait_for_selector("#funnel-result tbody tr:nth-child(3)")
    assert page.inner_text("#funnel-name") == "Signup funnel"
    assert page.locator("#saved-funnels li.active a").inner_text() == "Signup funnel"
    assert _counts(page) == list(FUNNEL)
    shot(page, "funnel-saved")

    with page.expect_download() as info:
        page.click("#funnel-csv")
    rows = list(csv.reader(io.StringIO(info.value.path().read_text())))
    visitors = rows[0].index("visitors")
    assert [int(r[visitors]) for r in rows[1:]] == list(FUNNEL)

    # Another period keeps the saved funnel in the URL; its numbers follow the period.
    page.click("a.period[data-period='7d']")
    page.wait_for_url(re.compile(r"period=7d&name=Signup\+funnel$"))
    page.wait_for_selector("#funnel-result tbody tr:nth-child(3)")
    assert _counts(page) == [0, 0, 0]  # the shop's month is long past
    assert page.inner_text("#funnel-name") == "Signup funnel"

    assert watch.dialogs == []
    assert watch.errors == []
