"""The HTML part in a real browser with scripts off, as a mail client shows it.

The chart's bars must be drawn by the table alone, the page must fetch
nothing, and the screenshot in docs/reports.md comes from here
(`FOOTFALL_SCREENSHOTS=1` refreshes docs/screenshots/report-email.png).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from tests.dashboard.browser import screenshot_dir
from tests.reports.conftest import SITE
from tests.services import chromium

from footfall.reports.content import build_report, period_starting
from footfall.reports.render import CHART_HEIGHT, render

pytestmark = [pytest.mark.browser]


def test_the_html_part_draws_its_chart_without_scripts(
    store: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FOOTFALL_PUBLIC_URL", "https://stats.example.com")
    report = build_report(store, SITE, period_starting("week", date(2026, 10, 19)))
    html = render(report, "owner@example.com", "x" * 32).html
    requests: list[str] = []
    with chromium() as browser:
        page = browser.new_page(java_script_enabled=False, viewport={"width": 680, "height": 900})
        page.on("request", lambda r: requests.append(r.url))
        page.set_content(html)
        bars = page.eval_on_selector_all(
            "table.chart td.bar",
            "cells => cells.map(c => [Number(c.dataset.visitors),"
            " c.querySelector('td[bgcolor]')?.getBoundingClientRect().height || 0])",
        )
        folder = screenshot_dir(tmp_path)
        page.screenshot(path=str(folder / "report-email.png"), full_page=True)
    assert requests == []  # nothing fetched: no images, fonts or scripts to block
    assert len(bars) == 7
    top = max(v for v, _ in bars)
    for visitors, height in bars:
        assert height == pytest.approx(CHART_HEIGHT * visitors / top, abs=2.5), (visitors, height)
