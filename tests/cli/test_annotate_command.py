"""`footfall annotate`: add, list and remove notes on a site's chart."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import footfall
from footfall.sites import add_site
from footfall.stores.meta import open_meta

from .conftest import SITE, invoke


def _notes(url: str, site: str = SITE) -> list[tuple[date, str]]:
    store = footfall.connect(url)
    try:
        found = open_meta(store).list_annotations(site, date(2000, 1, 1), date(2100, 1, 1))
        return [(a.date, a.text) for a in found]
    finally:
        store.close()


def test_add_list_and_remove(filled_url: str) -> None:
    db = ("--db", filled_url)
    added = invoke("annotate", "--site", SITE, "--date", "2026-11-30", "Launched pricing page", *db)
    assert added.exit_code == 0, added.output
    match = re.search(r"added annotation #(\d+) on 2026-11-30 to example.com", added.output)
    assert match
    first_id = match[1]
    other = invoke("annotate", "--site", "EXAMPLE.com", "--date", "2026-11-02", "<b>sale</b>", *db)
    assert other.exit_code == 0, other.output
    assert _notes(filled_url) == [
        (date(2026, 11, 2), "<b>sale</b>"),
        (date(2026, 11, 30), "Launched pricing page"),
    ]

    listed = invoke("annotate", "--list", "--site", SITE, *db)
    assert listed.exit_code == 0
    lines = [line for line in listed.output.splitlines() if line.startswith("#")]
    assert lines[1] == f"#{first_id}\texample.com\t2026-11-30\tLaunched pricing page"
    assert lines[0].endswith("\texample.com\t2026-11-02\t<b>sale</b>")

    removed = invoke("annotate", "--remove", first_id, "--site", SITE, "--yes", *db)
    assert removed.exit_code == 0 and f"removed annotation #{first_id}" in removed.output
    assert _notes(filled_url) == [(date(2026, 11, 2), "<b>sale</b>")]
    again = invoke("annotate", "--remove", first_id, "--site", SITE, "-y", *db)
    assert again.exit_code == 1 and f"no annotation #{first_id} on example.com" in again.output


def test_the_default_day_is_today_in_the_sites_time_zone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'footfall.db'}"
    store = footfall.connect(url)
    add_site(store, "far.test", timezone="Pacific/Kiritimati")  # UTC+14
    store.close()
    result = invoke("annotate", "--site", "far.test", "Deployed", "--db", url)
    assert result.exit_code == 0, result.output
    today = datetime.now(ZoneInfo("Pacific/Kiritimati")).date()
    assert _notes(url, "far.test") == [(today, "Deployed")]


def test_refusals(filled_url: str) -> None:
    db = ("--db", filled_url)
    unknown = invoke("annotate", "--site", "nope.test", "hello", *db)
    assert unknown.exit_code == 1 and "unknown site 'nope.test'" in unknown.output
    too_long = invoke("annotate", "--site", SITE, "x" * 201, *db)
    assert too_long.exit_code == 2 and "at most 200 characters" in too_long.output
    empty = invoke("annotate", "--site", SITE, "  ", *db)
    assert empty.exit_code == 2 and "needs some text" in empty.output
    both = invoke("annotate", "--site", SITE, "--list", "hello", *db)
    assert both.exit_code == 2 and "give the note's TEXT, or --list, or --remove ID" in both.output
    bad_day = invoke("annotate", "--site", SITE, "--date", "30/11/2026", "hello", *db)
    assert bad_day.exit_code == 2
    assert _notes(filled_url) == []
    nothing = invoke("annotate", "--list", "--site", SITE, *db)
    assert nothing.exit_code == 0 and "no annotations for example.com" in nothing.output


def test_list_without_a_site_shows_every_sites_notes(filled_url: str) -> None:
    store = footfall.connect(filled_url)
    add_site(store, "other.test")
    store.close()
    db = ("--db", filled_url)
    empty = invoke("annotate", "--list", *db)
    assert empty.exit_code == 0 and "no annotations (add one with" in empty.output
    for site, text in ((SITE, "Launch"), ("other.test", "Sale")):
        added = invoke("annotate", "--site", site, "--date", "2026-11-30", text, *db)
        assert added.exit_code == 0, added.output
    listed = invoke("annotate", "--list", *db)
    assert listed.exit_code == 0, listed.output
    lines = [line.split("\t", 1)[1] for line in listed.output.splitlines() if line[:1] == "#"]
    assert lines == ["example.com\t2026-11-30\tLaunch", "other.test\t2026-11-30\tSale"]
    no_site = invoke("annotate", "Deployed", *db)
    assert no_site.exit_code == 2 and "give --site" in no_site.output
