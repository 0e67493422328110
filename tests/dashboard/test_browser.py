"""The dashboard in a real browser over demo data: the flows a site owner goes through."""

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

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def shot(tmp_path: Path) -> Callable[[Any, str], None]:
    folder = screenshot_dir(tmp_path)

    def take(page: Any, name: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    return take


def test_log_in_filter_period_funnel_and_csv(
    page: Any, live: LiveServer, shot: Callable[[Any, str], None]
) -> None:
    watch = Watch()
    watch.attach(page)
    base = live.url
    page.goto(base + "/login")
    shot(page, "login")
    log_in(page, base, live.user, live.password)
    page.wait_for_selector("text=shop.example.com")
    page.wait_for_function(
        "() => document.querySelector('[data-site-visitors]').textContent.includes('visitors')"
    )
    shot(page, "sites")

    page.click("a.site-link:text('demo.footfall.dev')")
    page.wait_for_url(re.compile(r"/demo\.footfall\.dev$"))
    wait_loaded(page)
    page.wait_for_selector("#chart .uplot")
    visitors_30d = page.text_content("#topline [data-metric=visitors] [data-value]")
    assert visitors_30d and visitors_30d != "\u2013"
    shot(page, "dashboard")

    # period picker
    page.click("a.period[data-period='7d']")
    page.wait_for_url(re.compile(r"period=7d"))
    wait_loaded(page)
    assert "active" in (page.get_attribute("a.period[data-period='7d']", "class") or "")
    assert page.text_content("#topline [data-metric=visitors] [data-value]") != visitors_30d

    # click a page to filter by it, then remove the chip
    row = page.locator("#panel-pages a.filter-link", has_text=re.compile(r"^/pricing$"))
    row.click()
    page.wait_for_url(re.compile(r"filters=event%3Apage%3D%3D%2Fpricing"))
    wait_loaded(page)
    chip = page.locator(".chip")
    assert chip.count() == 1 and "/pricing" in chip.inner_text()
    top_pages = page.locator("#panel-pages tbody tr td.label").all_inner_texts()
    assert top_pages == ["/pricing"]
    shot(page, "dashboard-filtered")
    page.click(".chip-remove")
    page.wait_for_url(re.compile(r"/demo\.footfall\.dev\?period=7d$"))
    wait_loaded(page)
    assert page.locator(".chip").count() == 0
    assert page.locator("#panel-pages tbody tr").count() > 1

    # comparison with the previous period draws a second series
    page.click("#compare-toggle")
    page.wait_for_url(re.compile(r"compare=previous_period"))
    page.wait_for_function(
        "() => document.querySelectorAll('#chart .u-legend .u-series').length >= 3"
    )

    # every panel's CSV export
    with page.expect_download() as info:
        page.click("#panel-sources .csv")
    rows = list(csv.reader(io.StringIO(info.value.path().read_text())))
    assert rows[0][0] == "source" and "visitors" in rows[0] and len(rows) > 2

    # the funnel page
    page.click("#funnel-link")
    page.wait_for_url(re.compile(r"/demo\.footfall\.dev/funnel"))
    selects = page.locator("#funnel-form select[name=step]")
    for i, step in enumerate(["event:page==/", "event:page==/pricing", "event:name==Signup"]):
        selects.nth(i).select_option(value=step)
    page.click("#funnel-form button[type=submit]")
    page.wait_for_selector("#funnel-result tbody tr:nth-child(3)")
    counts = [
        int(t.replace(",", ""))
        for t in page.locator("#funnel-result tbody tr td:nth-child(2)").all_inner_texts()
    ]
    assert counts[0] >= counts[1] >= counts[2] > 0
    shot(page, "funnel")
    with page.expect_download() as info:
        page.click("#funnel-csv")
    funnel_rows = list(csv.reader(io.StringIO(info.value.path().read_text())))
    assert "visitors" in funnel_rows[0] and len(funnel_rows) == 4

    # server-side requests: status codes and slowest endpoints
    page.goto(base + "/api.example.com")
    page.wait_for_selector("#panel-status:not(.hidden) tbody tr")
    page.wait_for_selector("#panel-slowest tbody tr")
    wait_loaded(page)
    shot(page, "server-requests")

    page.goto(base + "/failed")
    shot(page, "failed-events")
    assert watch.dialogs == []
    assert [e for e in watch.errors if "Content Security Policy" in e] == []
