"""What makes a goal valid: one set of rules for `footfall goals add` and the dashboard.

A goal is written once and then compiled into every conversions query, so it is
checked where it is made: a page path in the filters' wildcard grammar, property
names the stats API would accept, an ISO 4217 currency beside a revenue
property, bounded lengths. Both surfaces call `new_goal` and only translate
`GoalRefused` into their own error (a click parameter error, a form message).
"""

from __future__ import annotations

import dataclasses
import re

from footfall.errors import FootfallError
from footfall.stats.errors import StatsError
from footfall.stats.properties import PROP_KEY
from footfall.stats.wildcard import parse_wildcard
from footfall.stores.meta import SavedGoal, goal_name

__all__ = ["MAX_NAME", "MAX_VALUE", "GoalRefused", "new_goal"]

MAX_NAME = 120
MAX_VALUE = 500
_CURRENCY = re.compile(r"[A-Z]{3}")


class GoalRefused(FootfallError, ValueError):
    """A goal that cannot be saved: `field` is what is wrong (page, event, prop,
    revenue_prop, currency, name or kind), the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _bounded(field: str, value: str) -> str:
    if len(value) > MAX_VALUE:
        raise GoalRefused(field, f"at most {MAX_VALUE} characters")
    return value


def new_goal(
    site: str,
    *,
    page: str = "",
    event: str = "",
    prop_key: str = "",
    prop_value: str = "",
    revenue_prop: str = "",
    currency: str = "",
    name: str = "",
    taken: list[SavedGoal] | tuple[SavedGoal, ...] = (),
) -> SavedGoal:
    """The goal described, checked, and named as Plausible would when `name` is empty
    (`Visit /pricing`, `Signup`, `Signup (plan=pro)` beside a goal in `taken`)."""
    page = _bounded("page", page.strip())
    event = _bounded("event", event.strip())
    prop_key, revenue_prop = prop_key.strip(), revenue_prop.strip()
    prop_value = _bounded("prop", prop_value)
    currency = currency.strip().upper()
    if bool(page) == bool(event):
        raise GoalRefused("kind", "a goal is a page (a path) or an event (a name), one of the two")
    if page:
        if not page.startswith("/"):
            raise GoalRefused("page", "a page path starts with /")
        try:
            parse_wildcard(page, "page")
        except StatsError as exc:
            raise GoalRefused("page", exc.message) from None
        if prop_key or revenue_prop:
            raise GoalRefused("prop", "a property match and revenue are for event goals")
    for field, key in (("prop", prop_key), ("revenue_prop", revenue_prop)):
        if key and not PROP_KEY.match(key):
            raise GoalRefused(field, "a property name is 1-100 letters, digits or _ . -")
    if bool(revenue_prop) != bool(currency):
        raise GoalRefused("currency", "a revenue property and its currency go together")
    if currency and not _CURRENCY.fullmatch(currency):
        raise GoalRefused("currency", "an ISO 4217 code such as EUR or USD")
    goal = SavedGoal(
        site=site,
        name="",
        page=page,
        event=event,
        prop_key=prop_key,
        prop_value=prop_value if prop_key else "",
        revenue_prop=revenue_prop,
        currency=currency,
    )
    chosen = name.strip() or goal_name(goal, taken)
    if not 0 < len(chosen) <= MAX_NAME:
        raise GoalRefused("name", f"a name of 1-{MAX_NAME} characters")
    return dataclasses.replace(goal, name=chosen)
