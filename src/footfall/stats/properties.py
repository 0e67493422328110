"""The allow-list of properties (Plausible's names) and what each one means in SQL.

A property is either an *event* property (a column of the event itself) or a
*visit* property (a value of the visit the event belongs to: taken from the
visit's first event, or its first/last page view for entry/exit pages). Both
lists come from `footfall.columns`. Only names listed there ever reach SQL,
and only as their fixed column names; values are always bound parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from footfall.columns import (
    EVENT_PROPERTIES,
    NUMBER_COLUMNS,
    PAGE_VISIT_PROPERTIES,
    VISIT_PROPERTIES,
)
from footfall.stats.errors import StatsError

__all__ = [
    "EVENT_PROPS",
    "GOAL_PROPERTY",
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


# Properties whose values are page paths: their filters accept wildcards.
_PATHS = frozenset({"page", *PAGE_VISIT_PROPERTIES})
# How an empty value is shown where "(none)" would mislead.
_EMPTY_LABELS = {"source": "Direct / None", "referrer": "Direct / None"}


def _property(scope: str, name: str, column: str, identifies: bool = False) -> Property:
    return Property(
        f"{scope}:{name}",
        scope,
        column,
        name,
        wildcard=name in _PATHS,
        empty_label=_EMPTY_LABELS.get(name, "(none)"),
        numeric=scope == "event" and column in NUMBER_COLUMNS,
        identifies=identifies,
    )


EVENT_PROPS: dict[str, Property] = {
    p.name: p for p in (_property("event", e.name, e.column) for e in EVENT_PROPERTIES)
}

VISIT_PROPS: dict[str, Property] = {
    p.name: p
    for p in (
        *(_property("visit", name, name) for name in PAGE_VISIT_PROPERTIES),
        *(_property("visit", v.name, v.name, v.identifies) for v in VISIT_PROPERTIES),
    )
}

# `property=event:goal`: one row per saved goal. It is no column: the engine
# answers it goal by goal (`footfall.stats.engine.breakdown`), never in SQL.
GOAL_PROPERTY = Property("event:goal", "event", "", "goal")

ALL_NAMES = (*EVENT_PROPS, "event:props:<key>", "event:goal", *VISIT_PROPS)
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
