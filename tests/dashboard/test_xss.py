"""Hostile strings in every field reach every page as text, and no script runs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from footfall import connect
from footfall.dashboard.auth import Users
from footfall.event import Event, new_id

from .browser import Watch, log_in, wait_loaded
from .conftest import PASSWORD, LiveServer, start_server
from .helpers import login

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SITE = "xss.example.com"
SCRIPT = "<script>alert('xss-script')</script>"
IMG = "<img src=x onerror=alert('xss-img')>"
JS_URL = "javascript:alert('xss-url')"
FORMULA = '=HYPERLINK("http://evil.example","click")'
HTTP_REF = "https://evil.example/<img src=x onerror=alert('xss-ref')>"

# (page path, referrer, event name, props) per visit; every visit shares the hostile UA fields.
VISITS = [
    ("/" + SCRIPT, JS_URL, IMG, {SCRIPT: IMG, "plan": JS_URL, "note": FORMULA}),
    ("/" + IMG, HTTP_REF, JS_URL, {"plan": SCRIPT}),
    (JS_URL, 'https://ok.example/"><script>alert(1)</script>', SCRIPT, {"plan": IMG}),
]


def _events() -> list[Event]:
    now = datetime.now(timezone.utc) - timedelta(minutes=2)
    out: list[Event] = []
    for i, (path, referrer, name, props) in enumerate(VISITS):
        common: dict[str, Any] = dict(
            site=SITE,
            source="browser",
            visitor_id=f"xss-visitor-{i}",
            visit_id=f"xss-visit-{i}",
            user_agent=SCRIPT + IMG,
            browser=IMG,
            browser_version=SCRIPT,
            os=SCRIPT,
            device=JS_URL,
            country=IMG,
            region=SCRIPT,
            city=IMG,
            host=SITE,
            path=path,
            url=f"https://{SITE}{path}",
        )
        ts = now + timedelta(seconds=i)
        out.append(
            Event(
                name="pageview",
                id=new_id(),
                ts=ts,
                referrer=referrer,
                referrer_host="evil.example",
                referrer_source=IMG,
                utm_source=SCRIPT,
                utm_medium=JS_URL,
                utm_campaign=FORMULA,
                title=SCRIPT,
                **common,
            )
        )
        out.append(
            Event(name=name, id=new_id(), ts=ts + timedelta(seconds=30), props=props, **common)
        )
    return out


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    from footfall.sites import add_site
    from footfall.stores.meta import FailedEvent, open_meta

    path: Path = tmp_path_factory.mktemp("xss") / "footfall.db"
    db_url = f"sqlite:///{path}"
    store = connect(db_url)
    store.write(_events())
    add_site(store, SITE, public=True)
    Users(store).add("alice", PASSWORD)
    open_meta(store).add_failed(
        [
            FailedEvent(
                id=0,
                ts=datetime.now(timezone.utc),
                reason=f"schema mismatch {SCRIPT}",
                payload=f'{{"e": "{IMG}"}}',
                site=SITE,
                source="snowplow",
                schema=JS_URL,
            )
        ]
    )
    store.close()
    for url in start_server(db_url):
        yield LiveServer(url, db_url)


def _no_script_ran(page: Any, watch: Watch, where: str) -> None:
    injected = page.evaluate(
        """() => ({
            imgs: document.querySelectorAll('img').length,
            inline: Array.from(document.scripts).filter(s => !s.src).length,
            jsLinks: document.querySelectorAll('a[href^="javascript:" i]').length,
            handlers: Array.from(document.querySelectorAll('*')).filter(
                el => Array.from(el.attributes).some(a => a.name.startsWith('on'))).length,
        })"""
    )
    assert injected == {"imgs": 0, "inline": 0, "jsLinks": 0, "handlers": 0}, where
    assert watch.dialogs == [], where
    csp = [e for e in watch.errors if "Content Security Policy" in e]
    assert csp == [], where


def _click_every_tab(page: Any, watch: Watch, where: str) -> str:
    """Open every tab of every panel; return all the text the panels showed."""
    seen = []
    for tab in page.locator(".panel:not(.hidden) .tab").all():
        tab.click()
        wait_loaded(page)
        seen.append(page.inner_text(".panels"))
        _no_script_ran(page, watch, f"{where} tab {tab.inner_text()}")
    return "\n".join(seen)


def test_hostile_strings_are_text_everywhere(browser: Any, hostile: LiveServer) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(90_000)
    watch = Watch()
    watch.attach(page)
    try:
        base = hostile.url
        # public: readable without login
        page.goto(f"{base}/{SITE}?period=day")
        wait_loaded(page)
        _no_script_ran(page, watch, "public dashboard")
        log_in(page, base, hostile.user, hostile.password)
        _no_script_ran(page, watch, "site list")
        page.goto(f"{base}/{SITE}?period=day")
        wait_loaded(page)
        shown = _click_every_tab(page, watch, "dashboard")
        for text in ("/" + SCRIPT, "/" + IMG, JS_URL, IMG, SCRIPT, FORMULA, HTTP_REF):
            assert text in shown, text
        # the referrer that is an http(s) URL links out, safely; javascript: does not
        page.locator("#panel-sources .tab", has_text="Referrers").click()
        wait_loaded(page)
        external = page.locator("#panel-sources a.external")
        assert external.count() == 2
        for i in range(external.count()):
            assert external.nth(i).get_attribute("rel") == "noopener noreferrer nofollow"
            assert external.nth(i).get_attribute("href").startswith("https://")

        # click the hostile event name: it becomes a chip, and its props get a panel
        page.locator("#panel-events a.filter-link", has_text=IMG).click()
        page.wait_for_url(re.compile(r"filters="))
        wait_loaded(page)
        assert IMG in page.inner_text(".chips")
        assert page.locator("#panel-props").count() == 1
        shown = _click_every_tab(page, watch, "filtered dashboard")
        assert JS_URL in shown and FORMULA in shown

        steps = f"step=event:page==/{SCRIPT}&step=event:name=={IMG}"
        page.goto(f"{base}/{SITE}/funnel?period=day&{steps}".replace("#", "%23"))
        page.wait_for_selector("#funnel-result tbody tr:nth-child(2)")
        assert SCRIPT in page.inner_text("#funnel-result") and IMG in page.inner_text("#funnel")
        _no_script_ran(page, watch, "funnel")

        page.goto(f"{base}/failed")
        assert SCRIPT in page.inner_text("#failed-table") and IMG in page.inner_text(
            "#failed-table"
        )
        _no_script_ran(page, watch, "failed events")
    finally:
        context.close()


def test_csv_cells_from_the_network_are_neutralised(hostile: LiveServer) -> None:
    with httpx.Client(base_url=hostile.url, timeout=30) as client:
        login(client, hostile.user, hostile.password)
        response = client.get(
            f"/{SITE}/export.csv",
            params={"period": "day", "property": "visit:utm_campaign", "metrics": "visitors"},
        )
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"].startswith("attachment;")
    lines = response.text.splitlines()
    assert lines[0] == "utm_campaign,visitors"
    assert any(line.startswith("\"'=HYPERLINK(") for line in lines[1:]), lines
