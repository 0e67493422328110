"""Annotations and saved funnels through the dashboard's forms, against a real server."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import date

import httpx
import pytest

from footfall import connect
from footfall.stores.meta import open_meta

from .conftest import LiveServer
from .helpers import audit, csrf_from, login
from .saved_data import HOSTILE, PERIOD, SITE, shop

__all__ = ["shop"]  # the fixture, imported for pytest

EVERY_DAY = (date(2000, 1, 1), date(2100, 1, 1))


@pytest.fixture
def client(shop: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shop.url, timeout=60) as c:
        yield c


@pytest.fixture
def user(client: httpx.Client, shop: LiveServer) -> httpx.Client:
    assert login(client, shop.user, shop.password).status_code == 303
    return client


def _notes(shop: LiveServer) -> list[tuple[int, date, str]]:
    store = connect(shop.db_url)
    try:
        found = open_meta(store).list_annotations(SITE, *EVERY_DAY)
        return [(a.id, a.date, a.text) for a in found]
    finally:
        store.close()


def _funnels(shop: LiveServer) -> dict[str, tuple[str, ...]]:
    store = connect(shop.db_url)
    try:
        return {f.name: f.steps for f in open_meta(store).list_funnels(SITE)}
    finally:
        store.close()


def test_annotations_are_listed_escaped_with_the_view(user: httpx.Client) -> None:
    page = user.get(f"/{SITE}{PERIOD}")
    assert page.status_code == 200
    assert html.escape(HOSTILE, quote=False) in page.text
    assert "<script>window" not in page.text and audit(page.text) == []
    assert 'data-date="2026-11-27"' in page.text and "Black Friday sale" in page.text
    assert 'id="annotation-form"' in page.text  # a logged-in user may add some
    # Another month shows none of them.
    october = user.get(f"/{SITE}?period=custom&date=2026-10-01%2C2026-10-31")
    assert "Black Friday sale" not in october.text


def test_add_and_remove_an_annotation(user: httpx.Client, shop: LiveServer) -> None:
    token = csrf_from(user.get(f"/{SITE}{PERIOD}").text)
    form = {"csrf": token, "action": "add", "day": "2026-11-05", "text": "Newsletter sent"}
    form.update(period="custom", date="2026-11-01,2026-11-30", filters="event:page==/pricing")
    added = user.post(f"/{SITE}/annotations", data=form)
    assert added.status_code == 303
    assert added.headers["location"] == (
        f"/{SITE}?period=custom&date=2026-11-01%2C2026-11-30&filters=event%3Apage%3D%3D%2Fpricing"
    )
    new = [n for n in _notes(shop) if n[2] == "Newsletter sent"]
    assert [n[1] for n in new] == [date(2026, 11, 5)]

    removed = user.post(
        f"/{SITE}/annotations",
        data={
            "csrf": token,
            "action": "remove",
            "id": str(new[0][0]),
            "period": "7d",
            "prop": "plan",
        },
    )
    assert removed.status_code == 303
    assert removed.headers["location"] == f"/{SITE}?period=7d&prop=plan"
    assert all(n[2] != "Newsletter sent" for n in _notes(shop))
    again = user.post(
        f"/{SITE}/annotations", data={"csrf": token, "action": "remove", "id": str(new[0][0])}
    )
    assert again.status_code == 404


@pytest.mark.parametrize(
    ("fields", "status", "says"),
    [
        ({"day": "2026-11-05", "text": "x" * 201}, 400, "at most 200 characters"),
        ({"day": "2026-11-05", "text": "   "}, 400, "needs some text"),
        ({"day": "05/11/2026", "text": "hello"}, 400, "YYYY-MM-DD"),
        ({"day": "1900-01-01", "text": "hello"}, 400, "2000-01-01"),
    ],
)
def test_refused_annotations(
    user: httpx.Client, shop: LiveServer, fields: dict[str, str], status: int, says: str
) -> None:
    before = _notes(shop)
    token = csrf_from(user.get(f"/{SITE}{PERIOD}").text)
    answer = user.post(f"/{SITE}/annotations", data={"csrf": token, "action": "add", **fields})
    assert answer.status_code == status and says in answer.text
    assert _notes(shop) == before


def test_changes_need_a_user_a_csrf_token_and_our_origin(
    client: httpx.Client, shop: LiveServer
) -> None:
    before = (_notes(shop), _funnels(shop))
    add = {"action": "add", "day": "2026-11-05", "text": "forged"}
    # A stranger: the private site is not even there.
    assert client.post(f"/{SITE}/annotations", data=add).status_code == 404
    save = {"action": "save", "name": "Forged", "step1": "event:page==/", "step2": "event:page==/x"}
    assert client.post(f"/{SITE}/funnels", data=save).status_code == 404
    login(client, shop.user, shop.password)
    token = csrf_from(client.get(f"/{SITE}").text)
    assert client.post(f"/{SITE}/annotations", data=add).status_code == 403
    assert client.post(f"/{SITE}/annotations", data={**add, "csrf": "x" * 40}).status_code == 403
    cross = client.post(
        f"/{SITE}/annotations",
        data={**add, "csrf": token},
        headers={"Origin": "https://evil.example"},
    )
    assert cross.status_code == 403
    assert client.post(f"/{SITE}/funnels", data=save).status_code == 403
    assert client.post("/nope.test/annotations", data={**add, "csrf": token}).status_code == 404
    assert (_notes(shop), _funnels(shop)) == before


def test_the_funnel_page_offers_goals_then_pages_and_events_as_steps(user: httpx.Client) -> None:
    page = user.get(f"/{SITE}/funnel{PERIOD}")
    assert page.status_code == 200 and audit(page.text) == []
    first = page.text.split('<select name="step"', 1)[1].split("</select>", 1)[0]
    groups = re.findall(r'<optgroup label="(\w+)">', first)
    assert groups == ["Goals", "Pages"]  # the one custom event, Signup, is a goal
    options = dict(re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', first))
    assert options["event:page==/pricing"] == "Visit /pricing"  # the goal, not the page again
    assert first.count('value="event:page==/pricing"') == 1
    assert options["event:name==Signup"] == "Signup"
    assert first.count('value="event:name==Signup"') == 1
    assert options["event:page==/"] == "/"
    assert "Signup (plan=pro)" not in first  # a property match is not a funnel step
    assert "event:name==pageview" not in first


def test_save_show_and_remove_a_funnel(user: httpx.Client, shop: LiveServer) -> None:
    steps = ["event:page==/", "event:page==/pricing", "event:name==Signup"]
    shown = user.get(f"/{SITE}/funnel{PERIOD}&" + "&".join(f"step={s}" for s in steps))
    assert 'id="funnel-save"' in shown.text
    token = csrf_from(shown.text)
    form = {f"step{i}": s for i, s in enumerate(steps, 1)}
    form.update(csrf=token, action="save", name="Sign <b>ups</b>", period="7d")
    saved = user.post(f"/{SITE}/funnels", data=form)
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/{SITE}/funnel?period=7d&name=Sign+%3Cb%3Eups%3C%2Fb%3E"
    assert _funnels(shop)["Sign <b>ups</b>"] == tuple(steps)
    assert user.post(f"/{SITE}/funnels", data=form).status_code == 409

    page = user.get(saved.headers["location"])
    assert "Sign &lt;b&gt;ups&lt;/b&gt;" in page.text and "<b>ups" not in page.text
    assert 'id="funnel-save"' not in page.text  # already saved
    listed = re.findall(r'<li data-label="[^"]*">([^<]*)</li>', page.text)
    assert [html.unescape(s) for s in listed] == steps
    # Picking another period keeps the funnel's name in the links.
    assert "period=30d&amp;name=Sign+%3Cb%3Eups%3C%2Fb%3E" in page.text
    custom = page.text.split('id="custom-period"', 1)[1].split("</form>", 1)[0]
    assert '<input type="hidden" name="name" value="Sign &lt;b&gt;ups&lt;/b&gt;">' in custom
    assert 'name="step"' not in custom

    gone = user.post(
        f"/{SITE}/funnels",
        data={"csrf": token, "action": "remove", "name": "Sign <b>ups</b>", "period": "7d"},
    )
    assert gone.status_code == 303 and gone.headers["location"] == f"/{SITE}/funnel?period=7d"
    assert "Sign <b>ups</b>" not in _funnels(shop)
    missing = user.get(f"/{SITE}/funnel?name=Sign+%3Cb%3Eups%3C%2Fb%3E")
    assert "no saved funnel called" in missing.text


@pytest.mark.parametrize(
    ("fields", "status", "says"),
    [
        ({"name": "One", "step1": "event:page==/"}, 400, "at least 2 steps"),
        ({"name": "Typed", "step1": "visit:country==DE", "step2": "event:page==/"}, 400, "steps"),
        ({"name": "", "step1": "event:page==/", "step2": "event:page==/a"}, 400, "name"),
    ],
)
def test_refused_funnels(
    user: httpx.Client, shop: LiveServer, fields: dict[str, str], status: int, says: str
) -> None:
    before = _funnels(shop)
    token = csrf_from(user.get(f"/{SITE}/funnel").text)
    answer = user.post(f"/{SITE}/funnels", data={"csrf": token, "action": "save", **fields})
    assert answer.status_code == status and says in answer.text
    assert _funnels(shop) == before
