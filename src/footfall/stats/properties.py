"""The allow-list of properties (Plausible's names) and what each one means in SQL.

A property is either an *event* property (a column of the event itself) or a
*visit* property (a value of the visit the event belongs to: taken from the
visit's first event, or its first/last page view for entry/exit pages). Only
names listed here ever reach SQL, and only as the fixed column names below;
values are always bound parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from footfall.stats.errors import StatsError

__all__ = [
    "EVENT_PROPS",
    "IDENTIFYING",
    "VISIT_PROPS",
    "Property",
    "breakdown_key",
    "lookup",
]

PROP_KEY = re.compile(r"^[A-Za-z0-9_.\-]{1,100}$")


@dataclass(frozen=True)
class Property:
    """One property: its public name, where its value lives, and how it is summarised."""

    name: str  # "visit:country", "event:page", "event:props:plan"
    scope: str  # "event" or "visit"
    column: str  # column of the events table (event) or of the visit relation (visit)
    key: str  # the breakdown result key: "country", "page", "plan"
    wildcard: bool = False  # page paths accept * and ** wildcards
    empty_label: str = "(none)"  # how an empty value is shown (and may be filtered)
    numeric: bool = False
    prop_key: str = ""  # for event:props:<key>
    # Names a person (the integrations fill user_id from log-ins): only readers
    # with a token or a dashboard login may break down or filter by it.
    identifies: bool = False

    @property
    def is_visit(self) -> bool:
        return self.scope == "visit"

    def label(self, value: object) -> str:
        text = "" if value is None else str(value)
        return text if text else self.empty_label

    def unlabel(self, value: str) -> str:
        """A filter value as stored: the empty label stands for the empty string."""
        return "" if value == self.empty_label else value


def _visit(column: str, key: str | None = None, **kw: object) -> Property:
    return Property(f"visit:{key or column}", "visit", column, key or column, **kw)  # type: ignore[arg-type]


EVENT_PROPS: dict[str, Property] = {
    "event:name": Property("event:name", "event", "name", "name"),
    "event:page": Property("event:page", "event", "path", "page", wildcard=True),
    "event:hostname": Property("event:hostname", "event", "host", "hostname"),
    "event:status": Property("event:status", "event", "status", "status", numeric=True),
}

VISIT_PROPS: dict[str, Property] = {
    p.name: p
    for p in (
        _visit("entry_page", wildcard=True),
        _visit("exit_page", wildcard=True),
        _visit("source", empty_label="Direct / None"),
        _visit("referrer", empty_label="Direct / None"),
        _visit("utm_medium"),
        _visit("utm_source"),
        _visit("utm_campaign"),
        _visit("utm_content"),
        _visit("utm_term"),
        _visit("device"),
        _visit("browser"),
        _visit("browser_version"),
        _visit("os"),
        _visit("os_version"),
        _visit("country"),
        _visit("region"),
        _visit("city"),
        _visit("user_id", identifies=True),
    )
}

# Visit columns and the event column each is taken from (the visit's first event).
VISIT_SOURCE_COLUMNS: dict[str, str] = {
    "source": "referrer_source",
    "referrer": "referrer",
    **{c: c for c in ("utm_medium", "utm_source", "utm_campaign", "utm_content", "utm_term")},
    **{
        c: c
        for c in (
            "device",
            "browser",
            "browser_version",
            "os",
            "os_version",
            "country",
            "region",
            "city",
            "user_id",
        )
    },
}

ALL_NAMES = (*EVENT_PROPS, "event:props:<key>", *VISIT_PROPS)
# Properties that name a person: only known readers may use them.
IDENTIFYING = frozenset(
    p.name for p in (*EVENT_PROPS.values(), *VISIT_PROPS.values()) if p.identifies
)


def lookup(name: str, param: str = "property") -> Property:
    """The property called `name`, or a 400 naming `param` and the allowed names."""
    name = name.strip()
    found = EVENT_PROPS.get(name) or VISIT_PROPS.get(name)
    if found is not None:
        return found
    if name.startswith("event:props:"):
        key = name[len("event:props:") :]
        if not PROP_KEY.match(key):
            raise StatsError(param, f"invalid custom property key {key[:40]!r}")
        return Property(name, "event", "props", key, prop_key=key)
    raise StatsError(param, f"unknown property {name[:60]!r}; use one of {', '.join(ALL_NAMES)}")


def breakdown_key(prop: Property) -> str:
    """The key naming the value in breakdown results (Plausible: the name's last part)."""
    return prop.key
