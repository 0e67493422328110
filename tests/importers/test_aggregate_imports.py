"""`footfall import plausible` and `footfall import ga4`: the sample exports in
tests/data, read through the CLI into a real SQLite store.

Expectations come from the CSV files themselves (the csv module), so a
column read wrong or a row lost shows as a difference.
"""

from __future__ import annotations

import csv
import shutil
import zipfile
from pathlib import Path
from typing import Any

from click.testing import CliRunner

import footfall
from footfall.cli import main
from footfall.stats.engine import aggregate, breakdown
from footfall.stats.model import build_query

DATA = Path(__file__).parents[1] / "data"
SITE = "example.com"


def run(*args: str) -> Any:
    result = CliRunner().invoke(main, ["import", *args], prog_name="footfall")
    assert result.exit_code == 0, result.output
    return result


def imported(db: str, site: str = SITE) -> list[tuple[Any, ...]]:
    store = footfall.connect(db)
    try:
        return list(
            store.query(
                "SELECT kind, day, visitors, pageviews, visits FROM imported_stats"
                " WHERE site = ? ORDER BY kind, day, row_key",
                [site],
            )
        )
    finally:
        store.close()


def stats(db: str, site: str, **params: Any) -> Any:
    store = footfall.connect(db)
    try:
        period = {"period": "custom", "date": "2024-01-01,2024-01-03", "with_imported": True}
        if "property" in params:
            return breakdown(store, build_query(site, **period, **params))
        return aggregate(store, build_query(site, **period, **params))
    finally:
        store.close()


def plausible_zip(folder: Path, extra: dict[str, str] | None = None) -> Path:
    path = folder / "export.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for f in sorted((DATA / "plausible").glob("*")):
            zf.write(f, f.name)
        for name, text in (extra or {}).items():
            zf.writestr(name, text)
    return path


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_plausible_export_every_table(tmp_path: Path, db: str) -> None:
    result = run("plausible", str(plausible_zip(tmp_path)), "--site", SITE, "--db", db)
    files = sorted((DATA / "plausible").glob("imported_*.csv"))
    lines = sum(len(csv_rows(f)) for f in files)
    assert f"read {lines} rows from {len(files)} CSV files, 0 bad" in result.output
    assert "skipped file README.md" in result.output
    assert "covering 2024-01-01 to 2024-01-03" in result.output
    rows = imported(db)
    assert len(rows) == lines
    visitors = csv_rows(DATA / "plausible" / "imported_visitors_20240101_20240103.csv")
    totals = [r for r in rows if r[0] == "visitors"]
    assert [(r[1], r[2], r[3], r[4]) for r in totals] == [
        (v["date"], int(v["visitors"]), int(v["pageviews"]), int(v["visits"])) for v in visitors
    ]
    oses = stats(db, SITE, property="visit:os")
    assert {r["os"] for r in oses} == {"Mac OS X", "Linux", "iOS"}  # Plausible's names mapped


def test_plausible_import_twice_counts_once(tmp_path: Path, db: str) -> None:
    export = str(plausible_zip(tmp_path))
    run("plausible", export, "--site", SITE, "--db", db)
    first = imported(db)
    before = stats(db, SITE, metrics="visitors,pageviews,visits")
    again = run("plausible", export, "--site", SITE, "--db", db)
    assert f"replaced {len(first)} rows" in again.output
    assert imported(db) == first
    assert stats(db, SITE, metrics="visitors,pageviews,visits") == before


def test_plausible_bad_rows_are_counted_not_fatal(tmp_path: Path, db: str) -> None:
    folder = tmp_path / "csv"
    shutil.copytree(DATA / "plausible", folder)
    with (folder / "imported_visitors_20240101_20240103.csv").open("a") as f:
        f.write("2024-13-01,1,1,0,1,0\n2024-01-04,many,1,0,1,0\n2024-01-04,2,3,1,2,60\n")
    files = sorted(str(p) for p in folder.glob("imported_*.csv"))
    result = run("plausible", *files, "--site", SITE, "--db", db)
    assert ", 2 bad" in result.output
    assert "date '2024-13-01' is not a day" in result.output
    assert "visitors 'many' is not a number" in result.output
    assert "covering 2024-01-01 to 2024-01-04" in result.output
    days = [r[1] for r in imported(db) if r[0] == "visitors"]
    assert days == ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]


def test_ga4_reports(tmp_path: Path, db: str) -> None:
    pages, totals = DATA / "ga4" / "explore_pages.csv", DATA / "ga4" / "totals.csv"
    result = run("ga4", str(pages), str(totals), "--site", "ga.example", "--db", db)
    assert ", 2 bad" in result.output
    assert "explore_pages.csv:13: date '2024013x' is not a day" in result.output
    assert "explore_pages.csv:14: totalUsers 'lots' is not a number" in result.output
    day_totals = csv_rows(totals)
    got = stats(db, "ga.example", metrics="visitors,pageviews,visits,bounce_rate")
    visits = sum(int(r["sessions"]) for r in day_totals)
    assert got == {
        "visitors": sum(int(r["totalUsers"]) for r in day_totals),
        "pageviews": sum(int(r["screenPageViews"]) for r in day_totals),
        "visits": visits,
        "bounce_rate": int(100 * sum(int(r["bounces"]) for r in day_totals) / visits + 0.5),
    }
    # The good Explore rows, by page and by source (GA4's "(direct)" is no source).
    good = [
        r
        for r in csv.reader(
            line for line in pages.read_text().splitlines() if not line.startswith("#")
        )
    ][1:4]
    by_page: dict[str, int] = {}
    for r in good:
        by_page[r[1]] = by_page.get(r[1], 0) + int(r[6])
    got_pages = stats(db, "ga.example", metrics="pageviews", property="event:page")
    assert {r["page"]: r["pageviews"] for r in got_pages} == by_page
    sources = stats(db, "ga.example", metrics="visits", property="visit:source")
    assert {r["source"]: r["visits"] for r in sources} == {"google": 8, "Direct / None": 2}
    devices = stats(db, "ga.example", metrics="visitors", property="visit:country")
    assert {r["country"]: r["visitors"] for r in devices} == {"DE": 7, "US": 2}
    # Again: replaced, not added.
    again = run("ga4", str(pages), str(totals), "--site", "ga.example", "--db", db)
    assert "replaced" in again.output
    assert stats(db, "ga.example", metrics="visitors")["visitors"] == got["visitors"]


def test_ga4_without_a_totals_report_sums_the_rows(tmp_path: Path, db: str) -> None:
    pages = DATA / "ga4" / "explore_pages.csv"
    run("ga4", str(pages), "--site", "ga.example", "--db", db)
    assert stats(db, "ga.example", metrics="visitors") == {"visitors": 4 + 2 + 3}


def test_a_file_without_a_date_column_is_reported(tmp_path: Path, db: str) -> None:
    odd = tmp_path / "odd.csv"
    odd.write_text("page,views\n/,3\n")
    result = run("ga4", str(odd), "--site", "ga.example", "--db", db)
    assert "no date column" in result.output
    assert "nothing to import" in result.output


def test_an_overlapping_import_is_warned_about_and_delete_clears(tmp_path: Path, db: str) -> None:
    run("plausible", str(plausible_zip(tmp_path)), "--site", SITE, "--db", db)
    ga4 = DATA / "ga4" / "totals.csv"
    result = CliRunner().invoke(
        main, ["import", "ga4", str(ga4), "--site", SITE, "--db", db], prog_name="footfall"
    )
    assert result.exit_code == 0, result.output
    assert "warning: an earlier import (plausible, 2024-01-01 to 2024-01-03)" in result.output
    deleted = run("delete", "--site", SITE, "--db", db, "--yes")
    assert "deleted 2 imports of example.com" in deleted.output
    assert imported(db) == []


def test_delete_asks_first(tmp_path: Path, db: str) -> None:
    run("plausible", str(plausible_zip(tmp_path)), "--site", SITE, "--db", db)
    args = ["import", "delete", "--site", SITE, "--db", db]
    refused = CliRunner().invoke(main, args, prog_name="footfall")
    assert refused.exit_code == 2 and "Pass --yes" in refused.output
    assert imported(db) != []
    deleted = run("delete", "--site", SITE, "--db", db, "-y")
    assert "deleted 1 import of example.com" in deleted.output
    assert imported(db) == []


def test_footfall_stats_with_imported(tmp_path: Path, db: str) -> None:
    run("plausible", str(plausible_zip(tmp_path)), "--site", SITE, "--db", db)
    args = ["stats", "--site", SITE, "--period", "custom", "--date", "2024-01-01,2024-01-03"]
    args += ["--db", db]
    days = csv_rows(DATA / "plausible" / "imported_visitors_20240101_20240103.csv")
    visitors = str(sum(int(r["visitors"]) for r in days))
    merged = CliRunner().invoke(main, [*args, "--with-imported"], prog_name="footfall")
    assert merged.exit_code == 0, merged.output
    assert f"│ {visitors} " in merged.output
    plain = CliRunner().invoke(main, args, prog_name="footfall")
    assert f"│ {visitors} " not in plain.output
