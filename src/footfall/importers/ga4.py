"""Google Analytics 4 reports (CSV) -> imported aggregates.

GA4 keeps no raw hits that can be exported as a file, only reports: an
Explore table downloaded as CSV, or the same dimensions and metrics from the
Data API or a BigQuery query, written one row per day and dimension values.
Both shapes read: lines starting with `#` (Explore's title and date-range
comments) and blank lines are skipped, the first other line is the header,
and columns are found by name, the API's (`pagePath`) or Explore's ("Page
path and screen class"), in any letter case:

| footfall | accepted header names |
| --- | --- |
| day (required) | date, Date (`YYYYMMDD` or `YYYY-MM-DD`) |
| event:page | pagePath, page_path, Page path, Page path and screen class |
| event:hostname | hostName, hostname, Hostname |
| visit:source | sessionSource, session_source, Session source, source, Source |
| visit:utm_medium | sessionMedium, session_medium, Session medium, medium, Medium |
| visit:utm_campaign | sessionCampaignName, session_campaign, Session campaign, campaign |
| visit:country | countryId, country_id, Country ID (ISO code); country, Country |
| visit:device | deviceCategory, device_category, Device category |
| visitors | totalUsers, activeUsers, Total users, Active users, users, Users |
| pageviews | screenPageViews, Views, views, pageviews |
| visits | sessions, Sessions |
| bounces | bounces; else sessions - engagedSessions (Engaged sessions) |
| visit_duration | userEngagementDuration (seconds), else averageSessionDuration x sessions |

Each row's figures go to every kind its dimension columns name (a page
column: the pages rows; a source column: the sources rows...), summed over
the other columns, and to the day's totals when the file has no dimension
column but the date. GA4 counts users per row, so a user seen on two pages
of a day is two in a sum: for exact totals and breakdowns, export one report
per dimension and import the files together (`footfall import ga4 a.csv
b.csv`); without a date-only report the day's totals are summed from the
first file's rows, an upper bound.
"""

from __future__ import annotations

import csv
import io
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

__all__ = ["COLUMNS", "ga4_import"]

# footfall name -> accepted header names (compared lower-cased, spaces and _ removed)
COLUMNS: dict[str, tuple[str, ...]] = {
    "date": ("date",),
    "path": ("pagePath", "page_path", "Page path", "Page path and screen class"),
    "host": ("hostName", "Hostname"),
    "source": ("sessionSource", "Session source", "source"),
    "utm_medium": ("sessionMedium", "Session medium", "medium"),
    "utm_campaign": ("sessionCampaignName", "session_campaign", "Session campaign", "campaign"),
    "country_id": ("countryId", "Country ID"),
    "country": ("country",),
    "device": ("deviceCategory", "Device category"),
    "visitors": ("totalUsers", "activeUsers", "Total users", "Active users", "users"),
    "pageviews": ("screenPageViews", "Views", "pageviews"),
    "visits": ("sessions",),
    "bounces": ("bounces",),
    "engaged": ("engagedSessions", "Engaged sessions"),
    "engagement": ("userEngagementDuration", "User engagement duration"),
    "average_duration": ("averageSessionDuration", "Average session duration"),
}
# kind -> the footfall dimensions whose columns make a row of it
_KIND_DIMENSIONS = {
    "pages": ("path", "host"),
    "sources": ("source", "utm_medium", "utm_campaign"),
    "locations": ("country",),
    "devices": ("device",),
}
_NOT_SET = {"(not set)", "(direct)", "(none)", "(other)"}


def _norm(name: str) -> str:
    return name.strip().lower().replace(" ", "").replace("_", "")


def _header_map(header: list[str]) -> dict[str, int]:
    """footfall name -> column index, from the header line."""
    where = {_norm(h): i for i, h in enumerate(header)}
    out: dict[str, int] = {}
    for name, accepted in COLUMNS.items():
        for a in accepted:
            if _norm(a) in where:
                out[name] = where[_norm(a)]
                break
    if "country_id" in out:
        out["country"] = out.pop("country_id")
    return out


def _lines(data: bytes) -> Iterator[tuple[int, list[str]]]:
    text = data.decode("utf-8-sig", errors="replace")
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        yield number, row


def _value(cells: list[str], cols: dict[str, int], name: str) -> str:
    i = cols.get(name)
    if i is None or i >= len(cells):
        return ""
    value = cells[i].strip()[:500]
    return "" if value in _NOT_SET else value


def read_file(
    name: str, data: bytes, report: AggregateReport, totals: bool
) -> tuple[list[AggregateRow], bool]:
    """The rows of one report, and whether it was a date-only (totals) report."""
    lines = _lines(data)
    first = next(lines, None)
    if first is None:
        report.bad_row(name, 1, "no header line")
        return [], False
    cols = _header_map(first[1])
    if "date" not in cols:
        report.bad_row(name, first[0], "no date column in the header")
        return [], False
    report.files += 1
    kinds = [k for k, dims in _KIND_DIMENSIONS.items() if any(d in cols for d in dims)]
    date_only = not kinds
    out: list[AggregateRow] = []
    for number, cells in lines:
        report.rows += 1
        try:
            out += _row(cells, cols, kinds, totals or date_only)
        except BadRow as exc:
            report.bad_row(name, number, str(exc))
    for row in out:
        report.kinds[row.kind] += 1
    return out, date_only


def _row(
    cells: list[str], cols: dict[str, int], kinds: list[str], totals: bool
) -> list[AggregateRow]:
    day = parse_day(_value(cells, cols, "date"))
    n = {
        m: parse_count(_value(cells, cols, m), COLUMNS[m][0])
        for m in ("visitors", "pageviews", "visits", "bounces", "engaged", "engagement")
    }
    bounces = n["bounces"]
    if "bounces" not in cols and "engaged" in cols:
        bounces = max(0, n["visits"] - n["engaged"])
    duration = n["engagement"]
    if "engagement" not in cols and "average_duration" in cols:
        average = _value(cells, cols, "average_duration").replace(",", "")
        try:
            duration = round(float(average or 0) * n["visits"])
        except ValueError:
            raise BadRow(f"averageSessionDuration {average[:20]!r} is not a number") from None
    figures = {
        "visitors": n["visitors"],
        "pageviews": n["pageviews"],
        "events": n["pageviews"],
        "visits": n["visits"],
        "bounces": min(bounces, n["visits"]) if n["visits"] else bounces,
        "visit_duration": duration,
    }
    out = [AggregateRow("visitors", day, {}, **figures)] if totals else []
    for kind in kinds:
        dims = {d: _value(cells, cols, d) for d in _KIND_DIMENSIONS[kind] if d in cols}
        if kind == "devices":
            dims["device"] = dims["device"].lower()
        if kind == "pages":
            out.append(
                AggregateRow(
                    kind, day, dims, visitors=n["visitors"], pageviews=n["pageviews"],
                    events=n["pageviews"],
                )
            )  # fmt: skip
        else:
            out.append(AggregateRow(kind, day, dims, **figures))
    return out


def ga4_import(store: Store, site: str, paths: list[Path], label: str = "") -> AggregateReport:
    """Import GA4 report CSVs for `site` as one import."""
    report = AggregateReport()
    files = [(p.name, p.read_bytes()) for p in paths]
    # A date-only report, if any, gives the totals; else the first file does.
    date_only = set()
    for name, data in files:
        first = next(_lines(data), None)
        if first is not None:
            cols = _header_map(first[1])
            if "date" in cols and not any(
                d in cols for dims in _KIND_DIMENSIONS.values() for d in dims
            ):
                date_only.add(name)
    rows: list[AggregateRow] = []
    for i, (name, data) in enumerate(files):
        totals = name in date_only or (not date_only and i == 0)
        found, _ = read_file(name, data, report, totals)
        rows += found
    if not rows:
        return report
    import_id = import_id_of(site, "ga4", sorted(n.encode() + b"\n" + d for n, d in files))
    report.summary = store_aggregates(
        store, site, "ga4", import_id, rows, label or ", ".join(p.name for p in paths)
    )
    return report
