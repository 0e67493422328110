"""What a dashboard URL means: period, filters, comparison — parsed and rebuilt.

The dashboard keeps its whole view in the query string, using the stats
API's own parameter names (`period`, `date`, `filters`, `compare`), so a view
can be bookmarked, and the browser passes them on to `/api/v1/stats/*`
unchanged. Everything here is validated against allow-lists: the values
end up in links and data attributes (escaped by Jinja2 anyway) and in the
API's query string (where the stats engine validates them again).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from urllib.parse import urlencode

from footfall.stats.properties import IDENTIFYING

__all__ = ["PERIODS", "Chip", "View", "interval_for", "parse_view"]

PERIODS = {
    "day": "Today",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "month": "This month",
    "6mo": "Last 6 months",
    "12mo": "Last 12 months",
    "custom": "Custom range",
}
DEFAULT_PERIOD = "30d"
MAX_FILTERS = 10
MAX_FILTER_LEN = 2_000
# property==value, property!=value, property~value (the stats API's syntax).
_CONDITION = re.compile(r"^((?:event|visit):[a-z_]+(?::[A-Za-z0-9_.$-]{1,100})?)(==|!=|~)(.*)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# How a property is shown on a chip.
LABELS = {
    "event:page": "Page",
    "event:name": "Event",
    "event:hostname": "Hostname",
    "event:status": "Status",
    "visit:entry_page": "Entry page",
    "visit:exit_page": "Exit page",
    "visit:source": "Source",
    "visit:referrer": "Referrer",
    "visit:utm_source": "UTM source",
    "visit:utm_medium": "UTM medium",
    "visit:utm_campaign": "UTM campaign",
    "visit:utm_content": "UTM content",
    "visit:utm_term": "UTM term",
    "visit:device": "Device",
    "visit:browser": "Browser",
    "visit:browser_version": "Browser version",
    "visit:os": "OS",
    "visit:os_version": "OS version",
    "visit:country": "Country",
    "visit:region": "Region",
    "visit:city": "City",
    "visit:language": "Language",
    "visit:screen": "Screen size",
    "event:goal": "Goal",
    "visit:user_id": "User",
}
_OPS = {"==": "is", "!=": "is not", "~": "contains"}


def _valid_date(text: str) -> bool:
    if not _DATE.match(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Chip:
    """One active filter, shown as a removable chip."""

    prop: str
    op: str
    value: str
    remove_url: str

    @property
    def label(self) -> str:
        if self.prop.startswith("event:props:"):
            name = f"Property {self.prop.split(':', 2)[2]}"
        else:
            name = LABELS.get(self.prop, self.prop)
        return f"{name} {_OPS[self.op]}"


@dataclass(frozen=True)
class View:
    """The dashboard's state, as read from (and written back to) the URL."""

    period: str = DEFAULT_PERIOD
    date: str = ""  # "YYYY-MM-DD" for day/month, "YYYY-MM-DD,YYYY-MM-DD" for custom
    filters: tuple[str, ...] = ()
    compare: bool = False
    errors: tuple[str, ...] = field(default=(), compare=False)
    extra: tuple[tuple[str, str], ...] = ()  # page-specific params kept in links (funnel steps)
    imported: bool = True  # add imported data (`footfall import plausible|ga4`); `imported=off`

    def params(self) -> list[tuple[str, str]]:
        out = [("period", self.period)]
        if self.date:
            out.append(("date", self.date))
        if self.filters:
            out.append(("filters", ";".join(self.filters)))
        if self.compare:
            out.append(("compare", "previous_period"))
        if not self.imported:
            out.append(("imported", "off"))
        return out + list(self.extra)

    def query(self, **changes: object) -> str:
        """`?period=...` for this view with `changes` applied."""
        view = replace(self, **changes)  # type: ignore[arg-type]
        return "?" + urlencode(view.params())

    def period_url(self, period: str) -> str:
        return self.query(period=period, date="")

    @property
    def imported_url(self) -> str:
        return self.query(imported=not self.imported)

    @property
    def compare_url(self) -> str:
        return self.query(compare=not self.compare)

    @property
    def period_label(self) -> str:
        if self.period == "custom" and self.date:
            start, end = self.date.split(",")
            return f"{start} to {end}"
        return PERIODS[self.period]

    @property
    def custom_range(self) -> tuple[str, str]:
        if self.period == "custom" and "," in self.date:
            start, end = self.date.split(",")
            return start, end
        return "", ""

    def chips(self) -> list[Chip]:
        out: list[Chip] = []
        for i, cond in enumerate(self.filters):
            match = _CONDITION.match(cond)
            if not match:
                continue
            rest = self.filters[:i] + self.filters[i + 1 :]
            out.append(Chip(match[1], match[2], match[3], self.query(filters=rest)))
        return out

    def for_anonymous(self) -> View:
        """This view without filters on properties that name people (`visit:user_id`).

        The stats API refuses them to anonymous readers of a public site; the
        page drops them and says why instead of showing every panel's error.
        """
        kept: list[str] = []
        dropped: set[str] = set()
        for cond in self.filters:
            match = _CONDITION.match(cond)
            if match and match[1] in IDENTIFYING:
                dropped.add(LABELS.get(match[1], match[1]))
            else:
                kept.append(cond)
        if not dropped:
            return self
        note = f"ignored the {', '.join(sorted(dropped))} filter: log in to filter by people"
        return replace(self, filters=tuple(kept), errors=(*self.errors, note))

    def filter_value(self, prop: str) -> str | None:
        """The value of an `==` filter on `prop`, if one is active."""
        for cond in self.filters:
            match = _CONDITION.match(cond)
            if match and match[1] == prop and match[2] == "==":
                return match[3]
        return None


def parse_view(params: dict[str, str] | object) -> View:
    """Read a View from query parameters, dropping (and reporting) what is invalid."""
    get = getattr(params, "get", None)
    if get is None:
        return View()
    errors: list[str] = []
    period = str(get("period") or DEFAULT_PERIOD)
    if period not in PERIODS:
        errors.append(f"unknown period {period[:40]!r}; showing {PERIODS[DEFAULT_PERIOD]}")
        period = DEFAULT_PERIOD
    day = str(get("date") or "")
    if period == "custom" and not day and get("from") and get("to"):
        day = f"{get('from')},{get('to')}"  # the custom-range form's two fields
    if period == "custom":
        parts = day.split(",")
        if len(parts) != 2 or not all(_valid_date(p) for p in parts) or parts[0] > parts[1]:
            errors.append("a custom range needs two dates, start <= end; showing the last 30 days")
            period, day = DEFAULT_PERIOD, ""
    elif period in ("day", "month"):
        if day and not _valid_date(day):
            errors.append("date must be YYYY-MM-DD")
            day = ""
    else:
        day = ""
    raw = str(get("filters") or "")[:MAX_FILTER_LEN]
    filters: list[str] = []
    for cond in raw.split(";"):
        if not cond:
            continue
        if not _CONDITION.match(cond):
            errors.append(f"ignored filter {cond[:80]!r}")
            continue
        if cond not in filters:
            filters.append(cond)
    compare = str(get("compare") or "") == "previous_period"
    imported = str(get("imported") or "") != "off"
    return View(
        period, day, tuple(filters[:MAX_FILTERS]), compare, tuple(errors), imported=imported
    )


def interval_for(view: View) -> str:
    """Hourly for a day, monthly for half a year or more, daily otherwise."""
    if view.period == "day":
        return "hour"
    if view.period in ("6mo", "12mo"):
        return "month"
    start, end = view.custom_range
    if start and end:
        days = (date.fromisoformat(end) - date.fromisoformat(start)).days
        if days == 0:
            return "hour"
        if days > 120:
            return "month"
    return "date"
