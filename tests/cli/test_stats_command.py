"""`footfall stats`: custom events, a warning for a site that does not exist."""

from __future__ import annotations

from pathlib import Path

import footfall
from footfall.event import Event
from footfall.sites import add_site

from .conftest import SITE, invoke


def test_stats_shows_custom_events_but_not_page_views(filled_url: str) -> None:
    result = invoke("stats", "--site", SITE, "--db", filled_url)
    assert result.exit_code == 0, result.output
    custom = result.stdout[result.stdout.index("top custom events") :]
    assert "shop.checkout" in custom
    assert "pageview" not in custom
    assert "warning" not in result.stderr


def test_stats_warns_about_a_site_with_no_registration_and_no_events(filled_url: str) -> None:
    result = invoke("stats", "--site", "nosuch.example", "--db", filled_url)
    assert result.exit_code == 0, result.output
    assert "warning: no site 'nosuch.example' and no events for it" in result.stderr


def test_stats_does_not_warn_about_a_registered_site_or_one_with_events(filled_url: str) -> None:
    with footfall.connect(filled_url) as store:
        add_site(store, "new.example")  # registered, no events yet
        store.write([Event(name="pageview", site="tracked.example", path="/")])  # not registered
    for site in ("new.example", "tracked.example"):
        result = invoke("stats", "--site", site, "--db", filled_url)
        assert result.exit_code == 0, result.output
        assert "warning" not in result.stderr, site


def test_stats_rebuild_uses_the_store_given_to_stats(filled_url: str, empty_cwd: Path) -> None:
    result = invoke("stats", "--db", filled_url, "rebuild", "--site", SITE)
    assert result.exit_code == 0, result.output
    assert "rebuilt from 7 events" in result.stdout
    assert list(empty_cwd.iterdir()) == []
