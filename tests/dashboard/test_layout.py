"""Which panels a site's dashboard gets: fixed ones, Goals with the site's goals,
Properties with the period's keys, and the comparison period's dates."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from footfall import Event, connect
from footfall.dashboard.layout import site_layout
from footfall.dashboard.sites import SiteDirectory
from footfall.dashboard.view import parse_view
from footfall.stores.meta import SavedGoal, Site, open_meta

SITE = "layout.test"


def _directory(tmp_path: Path) -> SiteDirectory:
    store = connect(f"sqlite:///{tmp_path / 'layout.db'}")
    open_meta(store).add_site(Site(SITE, "Europe/Berlin"))
    at = datetime(2026, 11, 10, 12, tzinfo=timezone.utc)
    store.write(
        [
            Event(id="a", name="Signup", site=SITE, ts=at, props={"plan": "pro", "ref": "x"}),
            Event(id="b", name="Signup", site=SITE, ts=at, props={"plan": "free"}),
        ]
    )
    return SiteDirectory(store)


def test_fixed_panels_then_properties_and_goals(tmp_path: Path) -> None:
    sites = _directory(tmp_path)
    view = parse_view({"period": "custom", "date": "2026-11-01,2026-11-14"})
    layout = site_layout(sites, SITE, view)
    ids = [p.id for p in layout.panels]
    assert ids[-4:] == ["languages", "screens", "events", "properties"]
    properties = layout.panels[-1]
    assert properties.choices == ("plan", "ref") and properties.chosen == "plan"
    assert properties.tabs[0].prop == "event:props:plan"
    assert layout.previous == "" and layout.view == view  # not comparing, no key in the URL

    meta = open_meta(sites.store)
    meta.add_goal(SavedGoal(site=SITE, name="Signup", event="Signup"))
    assert site_layout(sites, SITE, view).panels[-1].tabs[0].metrics == (
        "visitors,events,conversion_rate"
    )
    meta.add_goal(
        SavedGoal(site=SITE, name="Paid", event="Pay", revenue_prop="amount", currency="EUR")
    )
    goals = site_layout(sites, SITE, view).panels[-1]
    assert goals.id == "goals" and goals.wide
    assert goals.tabs[0].metrics.endswith(",total_revenue,average_revenue")
    sites.store.close()


def test_the_chosen_key_and_the_comparison_period(tmp_path: Path) -> None:
    sites = _directory(tmp_path)
    view = parse_view({"period": "month", "date": "2026-11-05", "compare": "previous_period"})
    layout = site_layout(sites, SITE, view, chosen="ref")
    assert layout.panels[-1].chosen == "ref"
    assert ("prop", "ref") in layout.view.params()  # kept in the page's links
    assert layout.previous == "2026-10-02,2026-10-31"  # 30 days before November
    # a key the API would refuse is ignored; a valid key with no events still shows
    assert site_layout(sites, SITE, view, chosen="<b>").panels[-1].chosen == "plan"
    quiet = site_layout(sites, SITE, parse_view({"period": "day", "date": "2026-01-01"}), "plan")
    assert quiet.panels[-1].choices == ("plan",)
    today = site_layout(sites, SITE, parse_view({"period": "day"}))
    assert today.panels[-1].id == "events"  # no custom events today: no Properties panel
    sites.store.close()
