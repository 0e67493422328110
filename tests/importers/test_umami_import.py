"""`footfall import umami`: Umami's website_event CSV (tests/data/umami) into events."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from click.testing import CliRunner

import footfall
from footfall.cli import main
from footfall.stats.engine import aggregate, breakdown
from footfall.stats.model import build_query

from .conftest import rows

SAMPLE = Path(__file__).parents[1] / "data" / "umami" / "website_event.csv"
SITE = "example.com"


def run(path: Path, db: str) -> Any:
    result = CliRunner().invoke(
        main, ["import", "umami", str(path), "--site", SITE, "--db", db], prog_name="footfall"
    )
    assert result.exit_code == 0, result.output
    return result


def events(db: str) -> list[dict[str, Any]]:
    store = footfall.connect(db)
    try:
        return rows(store)
    finally:
        store.close()


def test_rows_become_events(db: str) -> None:
    result = run(SAMPLE, db)
    assert "read 8 rows, 2 bad; 5 events (4 page views): 5 new, 0 already" in result.output
    assert "skipped 1: event_type is neither 1" in result.output
    assert "line 7: created_at 'yesterday' is not a time" in result.output
    assert "line 8: no session_id" in result.output
    stored = events(db)
    assert [(e["name"], e["path"]) for e in stored] == [
        ("pageview", "/"),
        ("pageview", "/pricing"),
        ("Signup", "/pricing"),
        ("pageview", "/"),
        ("pageview", "/docs"),
    ]
    first = stored[0]
    assert first["referrer"] == "https://www.google.com/search?q=footfall"
    assert first["referrer_source"] == "Google"
    assert (first["browser"], first["os"], first["device"], first["country"]) == (
        "Firefox",
        "Linux",
        "desktop",
        "DE",
    )
    newsletter = stored[3]
    assert (newsletter["utm_source"], newsletter["utm_medium"], newsletter["utm_campaign"]) == (
        "newsletter",
        "email",
        "february",
    )
    assert newsletter["device"] == "mobile"
    # Umami's ids are not footfall's: derived under the store's secret.
    assert not any(e["visitor_id"].startswith("7d0e1f2a") for e in stored)
    assert len({e["visitor_id"] for e in stored}) == 2
    assert len({e["visit_id"] for e in stored}) == 3


def test_import_twice_stores_once(db: str) -> None:
    run(SAMPLE, db)
    first = events(db)
    again = run(SAMPLE, db)
    assert "0 new, 5 already in the store" in again.output
    assert events(db) == first


def test_stats_of_the_import(db: str) -> None:
    run(SAMPLE, db)
    store = footfall.connect(db)
    try:
        common = {"period": "custom", "date": "2024-02-01,2024-02-02"}
        q = build_query(SITE, metrics="visitors,visits,pageviews,events,bounce_rate", **common)
        assert aggregate(store, q) == {
            "visitors": 2,
            "visits": 3,
            "pageviews": 4,
            "events": 5,
            "bounce_rate": 67,  # the newsletter visit and the docs visit: one page each
        }
        by_name = breakdown(store, build_query(SITE, property="event:name", **common))
        assert {r["name"]: r["visitors"] for r in by_name} == {"pageview": 2, "Signup": 1}
    finally:
        store.close()


def test_without_visit_ids_visits_split_at_thirty_minutes(tmp_path: Path, db: str) -> None:
    reader = csv.DictReader(io.StringIO(SAMPLE.read_text()))
    fields = [f for f in reader.fieldnames or [] if f != "visit_id"]
    out = io.StringIO()
    writer = csv.DictWriter(out, fields, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(reader)
    older = tmp_path / "website_event.csv"
    older.write_text(out.getvalue())
    run(older, db)
    assert len({e["visit_id"] for e in events(db)}) == 3
