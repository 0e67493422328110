"""A fixed month of a shop's traffic, for the annotations and saved-funnel tests.

Every date is fixed (November 2026, UTC), so the numbers and the screenshots
are the same on every run. 120 visitors, more of them later in the month:
each opens `/`; the even ones then open `/pricing`; every sixth one then
sends `Signup`. Some visitors open `/pricing` before `/` only, or sign up
without seeing `/pricing`: they must not count for those steps. The funnel
`/` -> `/pricing` -> `Signup` is therefore exactly 120 -> 60 -> 20.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from footfall import connect
from footfall.dashboard.auth import Users
from footfall.event import Event, new_id
from footfall.sites import add_site
from footfall.stores.meta import SavedGoal, open_meta

from .conftest import PASSWORD, LiveServer, start_server

SITE = "shop.test"
PERIOD = "?period=custom&date=2026-11-01%2C2026-11-30"
VISITORS = 120
FUNNEL = (120, 60, 20)  # `/`, then `/pricing`, then `Signup`
HOSTILE = "<script>window.__annotationRan = 1</script><img src=x onerror=alert(1)>"
ANNOTATIONS = (
    (date(2026, 11, 20), HOSTILE),
    (date(2026, 11, 27), "Black Friday sale"),
)


def _event(i: int, name: str, path: str, ts: datetime) -> Event:
    return Event(
        name=name,
        id=new_id(),
        ts=ts,
        site=SITE,
        source="browser",
        host=SITE,
        path=path,
        url=f"https://{SITE}{path}",
        visitor_id=f"shopper-{i:03d}",
        visit_id=f"visit-{i:03d}",
        browser="Firefox",
        os="Linux",
        device="Desktop",
        country="DE",
    )


def events() -> list[Event]:
    out: list[Event] = []
    for i in range(VISITORS):
        day = min(30, 1 + int(30 * (i / VISITORS) ** 0.6))  # busier as the month goes on
        start = datetime(2026, 11, day, 9, 0, tzinfo=timezone.utc) + timedelta(minutes=i)
        if i % 5 == 1:  # /pricing before / does not reach the second step
            out.append(_event(i, "pageview", "/pricing", start - timedelta(seconds=30)))
        out.append(_event(i, "pageview", "/", start))
        if i % 2 == 0:
            out.append(_event(i, "pageview", "/pricing", start + timedelta(minutes=1)))
        if i % 6 == 0:
            out.append(_event(i, "Signup", "/pricing", start + timedelta(minutes=2)))
        elif i % 7 == 3 and i % 2:  # signed up without /pricing: not the third step
            out.append(_event(i, "Signup", "/", start + timedelta(minutes=2)))
    return out


def build(path: Path) -> str:
    """The store: events, the site (private, UTC), two goals, two annotations, a user."""
    db_url = f"sqlite:///{path}"
    store = connect(db_url)
    store.write(events())
    add_site(store, SITE)
    meta = open_meta(store)
    meta.add_goal(SavedGoal(SITE, "Visit /pricing", page="/pricing"))
    meta.add_goal(SavedGoal(SITE, "Signup", event="Signup"))
    meta.add_goal(
        SavedGoal(SITE, "Signup (plan=pro)", event="Signup", prop_key="plan", prop_value="pro")
    )
    for day, text in ANNOTATIONS:
        meta.add_annotation(SITE, day, text)
    Users(store).add("alice", PASSWORD)
    store.close()
    return db_url


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real server over a fresh copy of the shop's month."""
    db_url = build(tmp_path_factory.mktemp("shop") / "footfall.db")
    for url in start_server(db_url):
        yield LiveServer(url, db_url)
