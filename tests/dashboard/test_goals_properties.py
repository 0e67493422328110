"""The Language, Screen size, Properties and Goal conversions panels, and the goals
page, on a real server over a SQLite file with fixed events (two fixed periods,
so the screenshots come out the same on every run)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from footfall import connect
from footfall.dashboard.auth import Users
from footfall.event import Event
from footfall.stores.meta import SavedGoal, Site, open_meta

from .browser import Watch, log_in, screenshot_dir, wait_loaded
from .conftest import PASSWORD, LiveServer, start_server
from .helpers import csrf_from, login

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SITE = "shop.test"
UNREGISTERED = "events-only.test"
PERIOD = "period=custom&date=2026-11-01,2026-11-14"
SCRIPT = "<script>window.__pwned = 1</script>"
IMG = '<img src=x onerror="window.__pwned = 2">'
LANGUAGES = ["en-US", "en-US", "de-DE", "fr-FR", "en-US", "de-DE"]
SCREENS = ["1920x1080", "390x844", "1440x900", "1920x1080"]


def _visit(n: int, start: datetime, language: str, screen: str, site: str = SITE) -> list[Event]:
    """One visit: a page view of /, sometimes /pricing, a purchase or a signup."""
    common: dict[str, Any] = dict(
        site=site,
        source="browser",
        host=site,
        visitor_id=f"visitor-{n}",
        visit_id=f"visit-{n}",
        language=language,
        screen=screen,
        browser="Firefox",
        country="DE",
    )
    out = [Event(id=f"e{n}-0", name="pageview", ts=start, path="/", **common)]
    if n % 3 == 0:
        out.append(
            Event(
                id=f"e{n}-1",
                name="pageview",
                ts=start + timedelta(seconds=20),
                path="/pricing",
                **common,
            )
        )
    if n % 4 == 0:
        plan, amount = ("pro", "49.00") if n % 8 == 0 else ("free", "9.50")
        props = {"plan": plan, "amount": amount, "coupon": "AUTUMN"}
        out.append(
            Event(
                id=f"e{n}-2",
                name="Purchase",
                ts=start + timedelta(seconds=40),
                path="/pricing",
                props=props,
                **common,
            )
        )
    if n % 5 == 0:
        props = {"plan": "pro" if n % 10 == 0 else "free", "form": "footer"}
        out.append(
            Event(
                id=f"e{n}-3",
                name="Signup",
                ts=start + timedelta(seconds=60),
                path="/",
                props=props,
                **common,
            )
        )
    return out


def _events() -> list[Event]:
    out: list[Event] = []
    current = datetime(2026, 11, 1, 9, tzinfo=timezone.utc)
    previous = datetime(2026, 10, 18, 9, tzinfo=timezone.utc)
    for n in range(48):  # 2026-11-01 .. 11-12: the period shown
        start = current + timedelta(hours=6 * n)
        out += _visit(n, start, LANGUAGES[n % len(LANGUAGES)], SCREENS[n % len(SCREENS)])
    for n in range(100, 124):  # 2026-10-18 .. 10-23: the period before, fewer visits
        start = previous + timedelta(hours=6 * (n - 100))
        out += _visit(n, start, LANGUAGES[(n + 1) % 3], SCREENS[n % 2])
    # Hostile property values and a hostile language (from the collector, unchecked).
    hostile = datetime(2026, 11, 13, 12, tzinfo=timezone.utc)
    out.append(
        Event(
            id="hostile-0",
            name="pageview",
            ts=hostile,
            site=SITE,
            path="/",
            visitor_id="hostile",
            visit_id="hostile-visit",
            language=SCRIPT,
            screen=IMG,
        )
    )
    out.append(
        Event(
            id="hostile-1",
            name="Signup",
            ts=hostile + timedelta(seconds=5),
            site=SITE,
            path="/",
            visitor_id="hostile",
            visit_id="hostile-visit",
            language=SCRIPT,
            screen=IMG,
            props={"form": SCRIPT},
        )
    )
    out += _visit(500, current, "en-US", "1920x1080", site=UNREGISTERED)
    return out


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    path: Path = tmp_path_factory.mktemp("goals") / "footfall.db"
    url = f"sqlite:///{path}"
    store = connect(url)
    store.write(_events())
    meta = open_meta(store)
    meta.add_site(Site(SITE, "UTC", public=True))
    Users(store).add("alice", PASSWORD)
    store.close()
    for server_url in start_server(url):
        yield LiveServer(server_url, url)


def _goals(shop: LiveServer) -> list[SavedGoal]:
    store = connect(shop.db_url)
    try:
        return open_meta(store).list_goals(SITE)
    finally:
        store.close()


def test_goal_forms_need_a_login_a_csrf_token_and_a_valid_goal(shop: LiveServer) -> None:
    with httpx.Client(base_url=shop.url, timeout=30) as anonymous:
        page = anonymous.get(f"/{SITE}/goals")
        assert page.status_code == 303 and page.headers["location"].startswith("/login?")
        refused = anonymous.post(f"/{SITE}/goals", data={"action": "remove", "name": "x"})
        assert refused.status_code == 403
        # the public dashboard has no link to the goals page for anonymous readers
        assert 'id="goals-link"' not in anonymous.get(f"/{SITE}?{PERIOD}").text
    with httpx.Client(base_url=shop.url, timeout=30) as client:
        login(client, shop.user, shop.password)
        html = client.get(f"/{SITE}/goals").text
        token = csrf_from(html)
        form = {"action": "add", "kind": "event", "event": "Checkout", "name": "Form check"}
        assert client.post(f"/{SITE}/goals", data=form).status_code == 403  # no token
        bad = [
            {"kind": "page", "page": "pricing"},  # not a path
            {"kind": "page", "page": "/*" * 9},  # too many wildcards
            {"kind": "event", "event": ""},
            {"kind": "event", "event": "Buy", "revenue_prop": "amount"},  # no currency
            {"kind": "event", "event": "Buy", "revenue_prop": "amount", "currency": "EURO"},
            {"kind": "event", "event": "Buy", "prop_key": "bad key!", "prop_value": "1"},
            {"kind": "other"},
        ]
        for fields in bad:
            answer = client.post(f"/{SITE}/goals", data={"csrf": token, "action": "add", **fields})
            assert answer.status_code == 400, fields
        added = client.post(f"/{SITE}/goals", data={"csrf": token, **form})
        assert added.status_code == 303
        assert [g.name for g in _goals(shop) if g.event == "Checkout"] == ["Form check"]
        again = client.post(f"/{SITE}/goals", data={"csrf": token, **form})
        assert again.status_code == 409
        elsewhere = client.post(f"/{UNREGISTERED}/goals", data={"csrf": token, **form})
        assert elsewhere.status_code == 409 and "sites add" in elsewhere.text
        removed = {"csrf": token, "action": "remove", "name": "Form check"}
        assert client.post(f"/{SITE}/goals", data=removed).status_code == 303
        assert client.post(f"/{SITE}/goals", data=removed).status_code == 404
        assert all(g.event != "Checkout" for g in _goals(shop))
        assert client.get(f"/{SITE}/goals?added={SCRIPT}").text.count(SCRIPT) == 0


@pytest.fixture
def shot(tmp_path: Path) -> Callable[[Any, str], None]:
    folder = screenshot_dir(tmp_path)

    def take(target: Any, name: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        target.screenshot(path=str(folder / f"{name}.png"))

    return take


def _rows(page: Any, panel: str) -> list[str]:
    texts: list[str] = page.locator(f"#panel-{panel} tbody td.label").all_inner_texts()
    return texts


def _csv(page: Any, panel: str) -> list[list[str]]:
    with page.expect_download() as info:
        page.click(f"#panel-{panel} .csv")
    return list(csv.reader(io.StringIO(info.value.path().read_text())))


def _no_script_ran(page: Any, watch: Watch, where: str) -> None:
    assert page.evaluate("() => window.__pwned") is None, where
    assert watch.dialogs == [], where
    assert [e for e in watch.errors if "Content Security Policy" in e] == [], where


def test_language_screen_properties_and_goals_in_the_browser(
    page: Any, shop: LiveServer, shot: Callable[[Any, str], None]
) -> None:
    watch = Watch()
    watch.attach(page)
    base = shop.url
    log_in(page, base, shop.user, shop.password)
    dashboard = f"{base}/{SITE}?{PERIOD}"

    # -- Language and Screen size: rows, a click filters, the filter stays in the URL
    page.goto(dashboard)
    wait_loaded(page)
    assert _rows(page, "languages")[:3] == ["en-US", "de-DE", "fr-FR"]
    assert SCRIPT in _rows(page, "languages")
    assert _rows(page, "screens")[0] == "1920x1080" and IMG in _rows(page, "screens")
    assert _csv(page, "languages")[0] == ["language", "visitors"]
    page.locator("#panel-languages a.filter-link", has_text=re.compile(r"^de-DE$")).click()
    page.wait_for_url(re.compile(r"filters=visit%3Alanguage%3D%3Dde-DE"))
    wait_loaded(page)
    assert "Language is" in page.inner_text(".chips")
    assert _rows(page, "languages") == ["de-DE"]
    assert IMG not in _rows(page, "screens")  # the hostile visit sent no German
    page.click(".chip-remove")
    wait_loaded(page)

    # -- Properties: the keys of the period, most common first; pick one, filter by a value
    options = page.locator("#panel-properties select option").all_inner_texts()
    assert options == ["plan", "amount", "coupon", "form"]  # in 23, 12, 12, 11 events
    assert _rows(page, "properties") == ["free", "pro"]  # no "(none)" for page views
    shot(page.locator("#panel-properties"), "properties")
    page.select_option("#panel-properties select", "amount")
    page.wait_for_url(re.compile(r"prop=amount"))
    wait_loaded(page)
    assert sorted(_rows(page, "properties")) == ["49.00", "9.50"]
    assert _csv(page, "properties")[0] == ["amount", "visitors", "events"]
    page.select_option("#panel-properties select", "form")
    page.wait_for_url(re.compile(r"prop=form"))
    wait_loaded(page)
    assert _rows(page, "properties") == ["footer", SCRIPT]
    _no_script_ran(page, watch, "properties panel")
    page.select_option("#panel-properties select", "plan")
    page.wait_for_url(re.compile(r"prop=plan"))
    wait_loaded(page)
    page.locator("#panel-properties a.filter-link", has_text=re.compile(r"^pro$")).click()
    page.wait_for_url(re.compile(r"filters=event%3Aprops%3Aplan%3D%3Dpro"))
    assert "prop=plan" in page.url  # the picked key is kept with the filter
    wait_loaded(page)
    assert "Property plan is" in page.inner_text(".chips")
    assert _rows(page, "properties") == ["pro"]

    # -- the comparison period: a change column against 2026-10-18 .. 10-31
    page.goto(dashboard + "&compare=previous_period")
    wait_loaded(page)
    page.wait_for_selector("#panel-languages thead th:text('Change')")
    changes = dict(
        zip(
            _rows(page, "languages"),
            page.locator("#panel-languages tbody td.stat-change").all_inner_texts(),
            strict=True,
        )
    )
    assert changes["en-US"].startswith("\u2191") and changes[SCRIPT] == "new"

    # -- goals: managed on the goals page, counted in the Goal conversions panel
    assert page.locator("#panel-goals").count() == 0  # no goals yet
    page.click("#goals-link")
    page.wait_for_url(re.compile(r"/shop\.test/goals$"))
    page.fill("#page-goal-form input[name=page]", "/pricing")
    page.click("#page-goal-form button[type=submit]")
    page.wait_for_selector("#goal-added")
    page.fill("#event-goal-form input[name=event]", "Purchase")
    page.fill("#event-goal-form input[name=revenue_prop]", "amount")
    page.fill("#event-goal-form input[name=currency]", "eur")
    page.click("#event-goal-form button[type=submit]")
    page.wait_for_selector("tr.goal[data-goal='Purchase']")
    page.fill("#event-goal-form input[name=event]", "Signup")
    page.fill("#event-goal-form input[name=prop_key]", "plan")
    page.fill("#event-goal-form input[name=prop_value]", "pro")
    page.click("#event-goal-form button[type=submit]")
    page.wait_for_selector("tr.goal[data-goal='Signup']")
    page.fill("#event-goal-form input[name=event]", "Signup")
    page.fill("#event-goal-form input[name=name]", IMG)
    page.click("#event-goal-form button[type=submit]")
    page.wait_for_selector("#goal-added")
    _no_script_ran(page, watch, "goals page")
    names = page.locator("tr.goal td.goal-name").all_inner_texts()
    assert sorted(names) == sorted([IMG, "Purchase", "Signup", "Visit /pricing"])
    page.locator(f"tr.goal[data-goal='{IMG}'] button.goal-remove").click()
    page.wait_for_function("() => document.querySelectorAll('tr.goal').length === 3")
    saved = {g.name: g for g in _goals(shop)}
    assert saved["Purchase"].revenue_prop == "amount" and saved["Purchase"].currency == "EUR"
    assert (saved["Signup"].prop_key, saved["Signup"].prop_value) == ("plan", "pro")

    page.goto(dashboard)
    wait_loaded(page)
    heads = page.locator("#panel-goals thead th").all_inner_texts()
    assert heads == ["Goals", "Visitors", "Events", "Conversion", "Revenue", "Average revenue"]
    table = {
        row[0]: row[1:]
        for row in (
            r.locator("td").all_inner_texts()[:6]
            for r in page.locator("#panel-goals tbody tr").all()
        )
    }
    # 49 visitors: /pricing seen by 16, a purchase by 12 (6 at 49.00, 6 at 9.50), plan=pro by 5
    assert table["Visit /pricing"] == ["16", "16", "32.7%", "\u2013", "\u2013"]
    assert table["Purchase"] == ["12", "12", "24.5%", "\u20ac351.00", "\u20ac29.25"]
    assert table["Signup"][:3] == ["5", "5", "10.2%"]
    assert table["Signup"][:2] == ["5", "5"]
    goal_csv = _csv(page, "goals")
    assert goal_csv[0][:4] == ["goal", "visitors", "events", "conversion_rate"]
    page.locator("#panel-goals a.filter-link", has_text="Purchase").click()
    page.wait_for_url(re.compile(r"filters=event%3Agoal%3D%3DPurchase"))
    wait_loaded(page)
    assert "Goal is" in page.inner_text(".chips")
    page.goto(dashboard)
    wait_loaded(page)
    shot(page.locator("#panel-goals"), "goals")
    _no_script_ran(page, watch, "dashboard")
