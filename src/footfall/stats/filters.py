"""Plausible v1 filter strings: `visit:country==DE;event:page==/blog/**`.

Grammar: conditions joined by `;`; each is `property OP value` with OP one of
`==` (is), `!=` (is not), `~` (contains), `!~` (does not contain). A value may
list alternatives with `|` (any of; `\\|` is a literal bar). In page paths
(`event:page`, `visit:entry_page`, `visit:exit_page`) `*` matches within one
path segment and `**` across segments, at most `MAX_WILDCARDS` per value
(`footfall.stats.wildcard`). `event:goal==Signup|Visit /pricing` names goals:
the site's saved goal of that name (`footfall goals add`), else an event of
that name, or, for `Visit PATH`, a pageview of PATH (`Query.goals`,
resolved by `footfall.stats.model.build_query`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from footfall.stats.errors import StatsError
from footfall.stats.properties import Property, lookup
from footfall.stats.wildcard import parse_wildcard

__all__ = ["MAX_CONDITIONS", "Condition", "Goal", "adhoc_goal", "parse_filters"]

MAX_CONDITIONS = 20
MAX_VALUES = 50
MAX_VALUE_LEN = 500
MAX_FILTER_LEN = 4000
_OPS = ("!=", "==", "!~", "~")  # two-character operators first
_SPLIT_BAR = re.compile(r"(?<!\\)\|")


@dataclass(frozen=True)
class Condition:
    """One filter condition on an allow-listed property."""

    prop: Property
    op: str  # "is", "is_not", "contains", "not_contains"
    values: tuple[str, ...]

    @property
    def negated(self) -> bool:
        return self.op in ("is_not", "not_contains")

    def is_wildcard(self, value: str) -> bool:
        return self.prop.wildcard and "*" in value and self.op in ("is", "is_not")


@dataclass(frozen=True)
class Goal:
    """A conversion goal: a custom event (with an optional property match), or a
    page visit (`Visit /path`); `revenue_prop` names its numeric revenue property."""

    event: str = ""
    page: str = ""
    prop_key: str = ""
    prop_value: str = ""
    name: str = ""
    revenue_prop: str = ""
    currency: str = ""

    @property
    def label(self) -> str:
        """Its name as results show it (Plausible's: `Visit /pricing`, `Signup`)."""
        return self.name or (f"Visit {self.page}" if self.page else self.event)


def adhoc_goal(name: str) -> Goal:
    """The goal an `event:goal` value stands for when the site saved none by that name."""
    goal = (
        Goal(page=name[6:], name=name) if name.startswith("Visit ") else Goal(event=name, name=name)
    )
    if "*" in goal.page:
        parse_wildcard(goal.page)  # refuses too many wildcards
    return goal


def _parse_one(text: str) -> tuple[str, str, str]:
    positions = [(text.find(op), op) for op in _OPS if op in text]
    if not positions:
        raise StatsError("filters", f"no operator (==, !=, ~, !~) in {text[:80]!r}")
    pos = min(p for p, _ in positions)
    op = next(op for p, op in sorted(positions, key=lambda x: (x[0], -len(x[1]))) if p == pos)
    return text[:pos].strip(), op, text[pos + len(op) :]


def parse_filters(text: str | None) -> tuple[tuple[Condition, ...], tuple[str, ...]]:
    """Parse a filter string into conditions and the goal names of its `event:goal`
    (at most one such condition; its `|` alternatives are any of the goals)."""
    if not text or not text.strip():
        return (), ()
    if len(text) > MAX_FILTER_LEN:
        raise StatsError("filters", f"longer than {MAX_FILTER_LEN} characters")
    parts = [p for p in text.split(";") if p.strip()]
    if len(parts) > MAX_CONDITIONS:
        raise StatsError("filters", f"more than {MAX_CONDITIONS} conditions")
    conditions: list[Condition] = []
    goals: tuple[str, ...] = ()
    for part in parts:
        name, op, raw = _parse_one(part)
        if not name:
            raise StatsError("filters", f"missing property before {op!r} in {part[:80]!r}")
        values = tuple(v.replace("\\|", "|") for v in _SPLIT_BAR.split(raw))
        if len(values) > MAX_VALUES:
            raise StatsError("filters", f"more than {MAX_VALUES} alternatives in one condition")
        if any(len(v) > MAX_VALUE_LEN for v in values):
            raise StatsError("filters", f"a value is longer than {MAX_VALUE_LEN} characters")
        if any("\x00" in v for v in values):
            raise StatsError("filters", "a value contains a NUL character")
        if name == "event:goal":
            if op != "==" or not all(values):
                raise StatsError("filters", "event:goal takes goal names with == (a|b: any of)")
            if goals:
                raise StatsError("filters", "only one event:goal filter is allowed")
            goals = tuple(dict.fromkeys(values))
            for v in goals:
                adhoc_goal(v)  # a page goal's wildcards are checked here, saved or not
            continue
        prop = lookup(name, "filters")
        kind = {"==": "is", "!=": "is_not", "~": "contains", "!~": "not_contains"}[op]
        if kind in ("is", "is_not"):
            values = tuple(prop.unlabel(v) for v in values)
        elif any(not v for v in values):
            raise StatsError("filters", f"empty value to search for in {part[:80]!r}")
        # ASCII only: "²" is a digit to isdigit() but not a number to int(); and
        # within a 64-bit integer, the most a store binds.
        numbers = all(v.isascii() and v.isdigit() and len(v) <= 18 for v in values)
        if prop.numeric and kind in ("is", "is_not") and not numbers:
            raise StatsError("filters", f"{prop.name} takes whole numbers (at most 18 digits)")
        condition = Condition(prop, kind, values)
        for v in values:
            if condition.is_wildcard(v):
                parse_wildcard(v)  # refuses too many wildcards
        conditions.append(condition)
    return tuple(conditions), goals
