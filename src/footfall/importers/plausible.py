"""Plausible's CSV export -> imported aggregates.

Plausible (Site settings > Imports & Exports > Export data) gives a zip of
CSV files, one per table of its imported-data schema, each named
`imported_<table>[_<first>_<last>].csv` with a header line. Plausible itself
loads the same files back through its CSV importer, whose input structures
name the columns; later exports added a few (pageviews of sources, referrer,
utm_source, visits of pages, browser and OS versions). Columns are found by
header name, so each of these layouts reads, and a column footfall does not
keep (`time_on_page`, `link_url`, scroll depth...) is ignored:

- imported_visitors: visitors, pageviews, bounces, visits, visit_duration;
- imported_sources: source, referrer, utm_source, utm_medium, utm_campaign,
  utm_content, utm_term; visitors, visits, visit_duration, bounces, pageviews;
- imported_pages: hostname, page; visitors, pageviews;
- imported_entry_pages: entry_page; visitors, entrances (the visits),
  visit_duration, bounces, pageviews;
- imported_exit_pages: exit_page; visitors, exits (the visits),
  visit_duration, bounces, pageviews;
- imported_locations: country, region, city; the figures of sources;
- imported_devices (device), imported_browsers (browser, browser_version),
  imported_operating_systems (operating_system, operating_system_version):
  the figures of sources;
- imported_custom_events: name, path; visitors, events.

Every file has `date` (YYYY-MM-DD, in the site's time zone). Names are turned
into footfall's where they differ (device "Desktop" -> "desktop", OS "Mac" ->
"Mac OS X"), so imported and live rows meet in one breakdown row. A row that
cannot be read (a missing date, a count that is not a number) is counted and
reported, never fatal.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

from footfall.importers.aggregates import (
    AggregateReport,
    AggregateRow,
    BadRow,
    import_id_of,
    parse_count,
    parse_day,
    store_aggregates,
)
from footfall.stores.base import Store

__all__ = ["FILES", "plausible_import"]

_FILE = re.compile(r"(?:^|/)(imported_[a-z_]+?)(?:_\d{8}_\d{8})?\.csv$")

# file -> (kind, {footfall dimension: CSV column}, {footfall figure: CSV column})
_VISIT_FIGURES = {
    "visitors": "visitors",
    "visits": "visits",
    "visit_duration": "visit_duration",
    "bounces": "bounces",
    "pageviews": "pageviews",
}
FILES: dict[str, tuple[str, dict[str, str], dict[str, str]]] = {
    "imported_visitors": ("visitors", {}, {**_VISIT_FIGURES, "events": "pageviews"}),
    "imported_sources": (
        "sources",
        {
            d: d
            for d in (
                "source",
                "referrer",
                "utm_source",
                "utm_medium",
                "utm_campaign",
                "utm_content",
                "utm_term",
            )
        },
        _VISIT_FIGURES,
    ),
    "imported_pages": (
        "pages",
        {"path": "page", "host": "hostname"},
        {"visitors": "visitors", "pageviews": "pageviews", "events": "pageviews"},
    ),
    "imported_entry_pages": (
        "entry_pages",
        {"entry_page": "entry_page"},
        {**_VISIT_FIGURES, "visits": "entrances"},
    ),
    "imported_exit_pages": (
        "exit_pages",
        {"exit_page": "exit_page"},
        {**_VISIT_FIGURES, "visits": "exits"},
    ),
    "imported_locations": (
        "locations",
        {"country": "country", "region": "region", "city": "city"},
        _VISIT_FIGURES,
    ),
    "imported_devices": ("devices", {"device": "device"}, _VISIT_FIGURES),
    "imported_browsers": (
        "browsers",
        {"browser": "browser", "browser_version": "browser_version"},
        _VISIT_FIGURES,
    ),
    "imported_operating_systems": (
        "operating_systems",
        {"os": "operating_system", "os_version": "operating_system_version"},
        _VISIT_FIGURES,
    ),
    "imported_custom_events": (
        "custom_events",
        {"name": "name", "path": "path"},
        {"visitors": "visitors", "events": "events"},
    ),
}
# Plausible's names -> footfall's (useragent.py), where they differ.
_DEVICES = {"Desktop": "desktop", "Mobile": "mobile", "Tablet": "tablet", "Laptop": "desktop"}
_OSES = {"Mac": "Mac OS X", "GNU/Linux": "Linux"}
_NOT_SET = {"(not set)", "(none)", "Direct / None"}


def _dimension(name: str, value: str) -> str:
    value = value.strip()[:500]
    if value in _NOT_SET:
        return ""
    if name == "city" and value == "0":  # Plausible's geoname id for "unknown"
        return ""
    if name == "device":
        return _DEVICES.get(value, value.lower())
    if name == "os":
        return _OSES.get(value, value)
    return value


def _csv_files(path: Path) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of each CSV file: the members of a zip, or the file itself."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if not info.is_dir():
                    yield info.filename, zf.read(info)
    else:
        yield path.name, path.read_bytes()


def read_rows(name: str, data: bytes, report: AggregateReport) -> list[AggregateRow]:
    """The rows of one `imported_*.csv` file (bad ones counted in `report`)."""
    match = _FILE.search(name)
    if match is None or match.group(1) not in FILES:
        report.skipped_files.append(name)
        return []
    kind, dims, figures = FILES[match.group(1)]
    report.files += 1
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig", errors="replace")))
    if "date" not in (reader.fieldnames or []):
        report.bad_row(name, 1, "no date column in the header")
        return []
    out: list[AggregateRow] = []
    for row in reader:
        report.rows += 1
        try:
            out.append(
                AggregateRow(
                    kind,
                    parse_day(row.get("date")),
                    {d: _dimension(d, row.get(col) or "") for d, col in dims.items()},
                    **{f: parse_count(row.get(col), col) for f, col in figures.items()},
                )
            )
        except BadRow as exc:
            report.bad_row(name, reader.line_num, str(exc))
            continue
        report.kinds[kind] += 1
    return out


def plausible_import(
    store: Store, site: str, paths: list[Path], label: str = ""
) -> AggregateReport:
    """Import Plausible's export (zip files or `imported_*.csv` files) for `site`."""
    report = AggregateReport()
    rows: list[AggregateRow] = []
    chunks: list[bytes] = []
    for path in paths:
        for name, data in sorted(_csv_files(path)):
            found = read_rows(name, data, report)
            if found:
                chunks.append(name.rsplit("/", 1)[-1].encode() + b"\n" + data)
            rows += found
    if not rows:
        return report
    import_id = import_id_of(site, "plausible", sorted(chunks))
    report.summary = store_aggregates(
        store, site, "plausible", import_id, rows, label or ", ".join(p.name for p in paths)
    )
    return report
