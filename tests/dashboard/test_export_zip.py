"""The dashboard's "Export all": one zip holding every panel's CSV for the view shown."""

from __future__ import annotations

import csv
import html
import io
import re
import zipfile
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from tests.dashboard.conftest import LiveServer
from tests.dashboard.helpers import login

from footfall.dashboard.export_zip import TOTALS_METRICS, parts
from footfall.dashboard.panels import PANELS, SERVER_PANELS
from footfall.dashboard.view import View, interval_for

SITE = "demo.footfall.dev"
_LINK = re.compile(r'id="export-all" href="([^"]+)"')


@pytest.fixture
def client(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, timeout=60) as c:
        login(c, live.user, live.password)
        yield c


def _zip_of(client: httpx.Client, page: str) -> tuple[str, zipfile.ZipFile]:
    """The page's "Export all" link, and the zip it downloads."""
    found = _LINK.search(client.get(page).text)
    assert found, "the dashboard has no Export all link"
    href = html.unescape(found.group(1))
    r = client.get(href)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert r.headers["content-disposition"].startswith(f'attachment; filename="{SITE}')
    return href, zipfile.ZipFile(io.BytesIO(r.content))


def test_every_panel_csv_is_in_the_zip_as_its_own_download(client: httpx.Client) -> None:
    page = f"/{SITE}?period=custom&date=2026-01-01,2026-12-31&filters=visit:country%3D%3DUS"
    href, archive = _zip_of(client, page)
    query = dict(parse_qsl(urlsplit(href).query))
    assert query["period"] == "custom" and query["filters"] == "visit:country==US"
    names = archive.namelist()
    assert "errors.txt" not in names
    assert names[:2] == ["totals.csv", "timeseries.csv"]
    # every tab of every fixed panel, and the server panels
    for panel in (*PANELS, *SERVER_PANELS):
        for tab in panel.tabs:
            assert any(n.startswith(f"{panel.id}/") for n in names), panel.id
    assert len(names) >= 2 + sum(len(p.tabs) for p in (*PANELS, *SERVER_PANELS))
    # each file equals the per-panel CSV download for the same view
    view = View(period="custom", date="2026-01-01,2026-12-31", filters=("visit:country==US",))
    wanted = {p.name: p for p in parts([*PANELS, *SERVER_PANELS], view, interval_for(view))}
    compared = 0
    for name in names:
        if name not in wanted:
            continue  # a panel that depends on the site's data (goals, properties)
        part = wanted[name]
        r = client.get(f"/{SITE}/export.csv", params=[("endpoint", part.endpoint), *part.params])
        assert r.status_code == 200, (name, r.text)
        assert archive.read(name) == r.content, name
        compared += 1
    assert compared >= len(wanted)
    # the filter holds: only US in the countries panel, and visitors there
    countries = list(csv.DictReader(io.StringIO(archive.read("locations/country.csv").decode())))
    assert [row["country"] for row in countries] == ["US"]
    totals = list(csv.reader(io.StringIO(archive.read("totals.csv").decode())))
    assert [row[0] for row in totals[1:]] == TOTALS_METRICS.split(",")
    assert int(totals[1][1]) > 0


def test_the_zip_follows_the_period(client: httpx.Client) -> None:
    _, whole = _zip_of(client, f"/{SITE}?period=custom&date=2026-01-01,2026-12-31")
    _, one_day = _zip_of(client, f"/{SITE}?period=day&date=2026-01-01")
    assert whole.read("totals.csv") != one_day.read("totals.csv")


def test_a_stranger_gets_no_zip_of_a_private_site(live: LiveServer) -> None:
    with httpx.Client(base_url=live.url, timeout=30) as anonymous:
        r = anonymous.get("/shop.example.com/export.zip?period=30d")
    assert r.status_code == 303 and r.headers["location"].startswith("/login?")
    assert not r.content
