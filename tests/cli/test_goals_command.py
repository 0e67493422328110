"""`footfall goals add|list|remove`: goals saved in the metadata store, Plausible's names."""

from __future__ import annotations

import footfall
from footfall.stores.meta import open_meta

from .conftest import SITE, invoke


def _goals(url: str) -> list[tuple[str, str, str, str, str, str, str]]:
    store = footfall.connect(url)
    try:
        return [
            (g.name, g.page, g.event, g.prop_key, g.prop_value, g.revenue_prop, g.currency)
            for g in open_meta(store).list_goals(SITE)
        ]
    finally:
        store.close()


def test_add_list_and_remove_goals(filled_url: str) -> None:
    db = ("--db", filled_url)
    assert invoke("goals", "add", "--site", SITE, "--page", "/pricing", *db).exit_code == 0
    assert invoke("goals", "add", "--site", SITE, "--event", "Signup", *db).exit_code == 0
    pro = invoke("goals", "add", "--site", SITE, "--event", "Signup", "--prop", "plan=pro", *db)
    assert pro.exit_code == 0 and "'Signup (plan=pro)'" in pro.output
    paid = ("--event", "Purchase", "--revenue-prop", "amount", "--currency", "eur")
    assert invoke("goals", "add", "--site", SITE, *paid, *db).exit_code == 0
    assert _goals(filled_url) == [
        ("Purchase", "", "Purchase", "", "", "amount", "EUR"),
        ("Signup", "", "Signup", "", "", "", ""),
        ("Signup (plan=pro)", "", "Signup", "plan", "pro", "", ""),
        ("Visit /pricing", "/pricing", "", "", "", "", ""),
    ]
    listed = invoke("goals", "list", *db)
    assert listed.exit_code == 0
    assert f"{SITE}\tVisit /pricing\tpage\tpageview of /pricing" in listed.output
    assert f"{SITE}\tSignup (plan=pro)\tevent\tevent Signup with plan=pro" in listed.output
    again = invoke("goals", "add", "--site", SITE, "--page", "/pricing", *db)
    assert again.exit_code == 1 and "already has a goal named 'Visit /pricing'" in again.output
    gone = invoke("goals", "remove", "--site", SITE, "Visit /pricing", "--yes", *db)
    assert gone.exit_code == 0
    assert [g[0] for g in _goals(filled_url)] == ["Purchase", "Signup", "Signup (plan=pro)"]
    missing = invoke("goals", "remove", "--site", SITE, "Visit /pricing", "--yes", *db)
    assert missing.exit_code == 1 and "no goal named" in missing.output


def test_bad_goals_are_refused_before_anything_is_saved(filled_url: str) -> None:
    db = ("--db", filled_url)
    cases = [
        (("--site", "nope.test", "--page", "/x"), "unknown site"),
        (("--site", SITE), "a page (a path) or an event (a name)"),
        (("--site", SITE, "--page", "/x", "--event", "E"), "one of the two"),
        (("--site", SITE, "--page", "pricing"), "starts with /"),
        (("--site", SITE, "--page", "/" + "*/" * 9), "at most 8 wildcards"),
        (("--site", SITE, "--event", "E", "--prop", "plan"), "KEY=VALUE"),
        (("--site", SITE, "--event", "E", "--revenue-prop", "amount"), "go together"),
        (("--site", SITE, "--event", "E", "--revenue-prop", "a", "--currency", "€"), "ISO 4217"),
        (("--site", SITE, "--page", "/x", "--prop", "a=b"), "for event goals"),
    ]
    for args, message in cases:
        result = invoke("goals", "add", *args, *db)
        assert result.exit_code != 0 and message in result.output, (args, result.output)
    assert _goals(filled_url) == []


def test_a_page_goal_takes_the_filters_wildcards(filled_url: str) -> None:
    db = ("--db", filled_url)
    result = invoke("goals", "add", "--site", SITE, "--page", "/blog/**", "--name", "Blog", *db)
    assert result.exit_code == 0
    assert _goals(filled_url) == [("Blog", "/blog/**", "", "", "", "", "")]
