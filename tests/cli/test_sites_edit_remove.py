"""`footfall sites edit` and `footfall sites remove`."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

import footfall
from footfall.event import Event
from footfall.sites import add_site, create_token, list_sites, list_tokens
from footfall.stats import StatsError, query
from footfall.stats.summaries.catchup import catch_up
from footfall.stores import EventFilter
from footfall.stores.meta import FailedEvent, open_meta

from .conftest import SITE, invoke

TZ_SITE = "tz.example"
# Berlin is UTC+1 in March before the 29th: 23:xx UTC is the next day there.
VISITS = {
    "v1": datetime(2026, 3, 10, 23, 30, tzinfo=timezone.utc),
    "v2": datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc),
    "v3": datetime(2026, 3, 11, 22, 59, tzinfo=timezone.utc),
    "v4": datetime(2026, 3, 11, 23, 10, tzinfo=timezone.utc),
}
RANGE = {"period": "custom", "date": "2026-03-10,2026-03-12", "metrics": "visitors,pageviews"}


def _visitors_per_day(store: Any, **extra: Any) -> dict[str, int]:
    rows = query(store, TZ_SITE, kind="timeseries", **RANGE, **extra)
    return {r["date"]: r["visitors"] for r in rows}


def test_edit_changes_the_time_zone_and_the_public_flag(filled_url: str) -> None:
    result = invoke(
        "sites", "edit", SITE, "--timezone", "Europe/Berlin", "--public", "--db", filled_url
    )
    assert result.exit_code == 0, result.output
    assert f"{SITE}\tEurope/Berlin\tpublic" in result.stdout
    private = invoke("sites", "edit", SITE, "--private", "--db", filled_url)
    assert f"{SITE}\tEurope/Berlin\tprivate" in private.stdout
    listed = invoke("sites", "list", "--db", filled_url)
    assert f"{SITE}\tEurope/Berlin\tprivate" in listed.stdout
    assert "footfall stats rebuild" in result.stderr  # it has events
    with footfall.connect(filled_url) as store:
        add_site(store, "empty.example")
    quiet = invoke("sites", "edit", "empty.example", "--timezone", "Asia/Tokyo", "--db", filled_url)
    assert quiet.exit_code == 0 and "rebuild" not in quiet.stderr  # nothing was summarised


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nosuch.example", "--public"), "unknown site 'nosuch.example'"),
        ((SITE, "--timezone", "Mars/Olympus"), "unknown time zone 'Mars/Olympus'"),
        ((SITE,), "nothing to change"),
    ],
)
def test_edit_refuses_what_it_cannot_do(
    filled_url: str, args: tuple[str, ...], message: str
) -> None:
    result = invoke("sites", "edit", *args, "--db", filled_url)
    assert result.exit_code == 2 and message in result.stderr, result.output
    listed = invoke("sites", "list", "--db", filled_url)
    assert f"{SITE}\tUTC\tprivate" in listed.stdout


def test_a_new_time_zone_gives_its_days_at_once_and_summaries_after_a_rebuild(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'tz.db'}"
    with footfall.connect(url) as store:
        add_site(store, TZ_SITE)
        store.write(
            [
                Event(name="pageview", site=TZ_SITE, path="/", ts=ts, visitor_id=v, visit_id=v)
                for v, ts in VISITS.items()
            ]
        )
        catch_up(store)
        utc_days = {"2026-03-10": 2, "2026-03-11": 2, "2026-03-12": 0}
        assert _visitors_per_day(store, engine="summary") == utc_days

    edited = invoke("sites", "edit", TZ_SITE, "--timezone", "Europe/Berlin", "--db", url)
    assert edited.exit_code == 0, edited.output
    assert "changed from UTC to Europe/Berlin" in edited.stderr
    assert f"footfall stats rebuild --site {TZ_SITE}" in edited.stderr

    berlin_days = {"2026-03-10": 1, "2026-03-11": 2, "2026-03-12": 1}
    with footfall.connect(url) as store:
        assert _visitors_per_day(store) == berlin_days  # right away, from raw events
        with pytest.raises(StatsError):  # the UTC summaries are not used
            _visitors_per_day(store, engine="summary")
    rebuilt = invoke("stats", "rebuild", "--site", TZ_SITE, "--db", url)
    assert rebuilt.exit_code == 0, rebuilt.output
    with footfall.connect(url) as store:
        assert _visitors_per_day(store, engine="summary") == berlin_days


def _failed_event(store: Any, site: str) -> None:
    now = datetime.now(timezone.utc)
    open_meta(store).add_failed([FailedEvent(0, now, "bad schema", "{}", site=site)])


def _summary_rows(store: Any, site: str) -> int:
    return int(store.query("SELECT COUNT(*) FROM stats_rollup WHERE site = ?", (site,))[0][0])


def test_remove_refuses_a_site_with_events_unless_they_go_too(filled_url: str) -> None:
    with footfall.connect(filled_url) as store:
        before = store.count()
    refused = invoke("sites", "remove", SITE, "--yes", "--db", filled_url)
    assert refused.exit_code == 1
    assert f"{SITE} has 7 events" in refused.stderr and "--with-events" in refused.stderr
    with footfall.connect(filled_url) as store:
        assert store.count() == before
        assert [s.domain for s in list_sites(store)] == [SITE]


def test_remove_with_events_takes_the_site_its_events_tokens_and_summaries(
    filled_url: str,
) -> None:
    with footfall.connect(filled_url) as store:
        add_site(store, "other.example")
        create_token(store, "every site")
        store.write([Event(name="pageview", site="other.example", path="/")])
        _failed_event(store, SITE)
        _failed_event(store, "other.example")
        catch_up(store)
        assert _summary_rows(store, SITE) > 0
    removed = invoke("sites", "remove", SITE, "--with-events", "--yes", "--db", filled_url)
    assert removed.exit_code == 0, removed.output
    assert f"removed site {SITE} and 7 events; revoked 1 token(s)" in removed.stdout
    with footfall.connect(filled_url) as store:
        assert store.count(filters=EventFilter(site=SITE)) == 0
        assert store.count(filters=EventFilter(site="other.example")) == 1
        assert [s.domain for s in list_sites(store)] == ["other.example"]
        assert {t.name: t.revoked for t in list_tokens(store)} == {
            "backend": True,
            "every site": False,
        }
        assert [f.site for f in open_meta(store).list_failed(None)] == ["other.example"]
        assert _summary_rows(store, SITE) == 0
        # Added again, the site starts empty and its old token stays revoked.
        add_site(store, SITE)
        assert query(store, SITE, metrics="visitors,pageviews") == {"visitors": 0, "pageviews": 0}
        assert all(t.site != SITE for t in open_meta(store).active_tokens().values())


def test_remove_a_site_without_events_or_an_unknown_one(filled_url: str) -> None:
    with footfall.connect(filled_url) as store:
        add_site(store, "empty.example")
    assert invoke("sites", "remove", "empty.example", "--yes", "--db", filled_url).exit_code == 0
    unknown = invoke("sites", "remove", "nosuch.example", "--yes", "--db", filled_url)
    assert unknown.exit_code == 1 and "unknown site 'nosuch.example'" in unknown.stderr
    with footfall.connect(filled_url) as store:
        assert [s.domain for s in list_sites(store)] == [SITE]
