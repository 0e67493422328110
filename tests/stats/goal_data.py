"""Generated conversions, and what they should count, computed in plain Python.

`build` makes two periods of visits (the queried one and the one before it,
for `compare=previous_period`) with page views, sign-ups with a plan,
purchases whose `amount` is sometimes a JSON number, sometimes a numeric
string, sometimes not a number at all, and a few events without a visitor.
`expect` re-implements the documented goal semantics over that list, with no
SQL, so every store's answers are checked against numbers found another way.
Amounts are multiples of 0.25, so every sum is exact in binary floating point
and the order a database adds them in cannot change a cent.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from footfall.event import Event
from footfall.stores.meta import SavedGoal

SITE = "goals.test"
FIRST = date(2026, 9, 15)  # the queried period: 14 days
LAST = date(2026, 9, 28)
BEFORE = date(2026, 9, 1)  # the previous period starts here
PERIOD = f"{FIRST},{LAST}"
PAGES = ["/", "/pricing", "/blog", "/blog/a", "/blog/a/b", "/docs"]
COUNTRIES = ["DE", "US", "FR"]
GOALS = [
    SavedGoal(SITE, "Visit /pricing", page="/pricing"),
    SavedGoal(SITE, "Visit /blog/**", page="/blog/**"),
    SavedGoal(SITE, "Signup", event="Signup"),
    SavedGoal(SITE, "Signup (plan=pro)", event="Signup", prop_key="plan", prop_value="pro"),
    SavedGoal(SITE, "Purchase", event="Purchase", revenue_prop="amount", currency="EUR"),
    SavedGoal(SITE, "Never", event="Never"),  # nobody completes it: no breakdown row
]
_DECIMAL = re.compile(r"^-?[0-9]{1,15}(\.[0-9]{1,15})?$")


def _amount(rng: random.Random) -> Any:
    """A purchase amount as senders send them: mostly numbers, sometimes not."""
    quarters = rng.randint(4, 800) / 4
    kind = rng.random()
    if kind < 0.45:
        return quarters  # a JSON number
    if kind < 0.6:
        return int(quarters)  # a whole JSON number
    if kind < 0.8:
        return f"{quarters:.2f}"  # a numeric string
    return rng.choice(["free", "", "12,50", True, None, "1e3"])  # no revenue


def build(seed: int = 11) -> list[Event]:
    rng = random.Random(seed)
    events: list[Event] = []
    visitors = [f"gv{i}" for i in range(80)]
    days = (LAST - BEFORE).days + 1
    n = 0
    for day in range(days):
        d = BEFORE + timedelta(days=day)
        for _ in range(rng.randint(4, 12)):
            n += 1
            visitor = rng.choice(visitors)
            ts = datetime(d.year, d.month, d.day, tzinfo=timezone.utc)
            ts += timedelta(seconds=rng.randint(0, 80_000))
            common: dict[str, Any] = dict(
                site=SITE,
                source="browser",
                visitor_id=visitor,
                visit_id=f"gvisit{n}",
                country=rng.choice(COUNTRIES),
                host=SITE,
            )
            for _ in range(rng.randint(1, 4)):
                path = rng.choice(PAGES)
                events.append(Event(name="pageview", ts=ts, path=path, **common))
                ts += timedelta(seconds=rng.randint(5, 120))
            if rng.random() < 0.25:
                plan = rng.choice(["free", "pro", "team"])
                events.append(Event(name="Signup", ts=ts, props={"plan": plan}, **common))
            if rng.random() < 0.3:
                amount = _amount(rng)
                props = {} if amount is None else {"amount": amount}
                events.append(Event(name="Purchase", ts=ts, props=props, **common))
        # a server-side purchase without a visitor: a completion, never a visitor
        events.append(
            Event(
                name="Purchase",
                ts=datetime(d.year, d.month, d.day, 12, tzinfo=timezone.utc),
                site=SITE,
                source="server",
                props={"amount": 2.5},
            )
        )
    events.sort(key=lambda e: (e.ts, e.id))
    return events


def _page_matches(pattern: str, path: str) -> bool:
    """`*` within a segment, `**` across them (footfall.stats.wildcard), by regex here."""
    parts = re.split(r"(\*+)", pattern)
    rx = "".join(
        (".*" if len(p) > 1 else "[^/]*") if p.startswith("*") else re.escape(p) for p in parts
    )
    return re.fullmatch(rx, path, flags=re.DOTALL) is not None


def completes(goal: SavedGoal, e: Event) -> bool:
    if goal.page:
        return e.name == "pageview" and _page_matches(goal.page, e.path)
    if e.name != goal.event:
        return False
    return not goal.prop_key or str(e.props.get(goal.prop_key, "")) == goal.prop_value


def revenue(goal: SavedGoal, e: Event) -> float | None:
    """The revenue of a completion: a plain decimal number, else none."""
    value = e.props.get(goal.revenue_prop)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    text = str(value)
    return float(text) if _DECIMAL.match(text) else None


def _round(x: float, digits: int) -> float:
    scale = 10**digits
    return float(math.floor(abs(x) * scale + 0.5) / scale * (1 if x >= 0 else -1))


@dataclass
class Expect:
    """What the engine should answer over `events`, for one period and visit filter."""

    events: list[Event]
    first: date = FIRST
    last: date = LAST
    where: Callable[[Event], bool] = lambda e: True

    def scope(self) -> list[Event]:
        lo = datetime.combine(self.first, datetime.min.time(), timezone.utc)
        hi = datetime.combine(self.last + timedelta(days=1), datetime.min.time(), timezone.utc)
        return [e for e in self.events if e.site == SITE and lo <= e.ts < hi and self.where(e)]

    def total_visitors(self) -> int:
        return len({e.visitor_id for e in self.scope() if e.visitor_id})

    def metrics(self, goals: list[SavedGoal]) -> dict[str, Any]:
        """visitors, events, conversion_rate and revenue of any of `goals`."""
        done = [e for e in self.scope() if any(completes(g, e) for g in goals)]
        visitors = len({e.visitor_id for e in done if e.visitor_id})
        total = self.total_visitors()
        out: dict[str, Any] = {
            "visitors": visitors,
            "events": len(done),
            "conversion_rate": _round(100 * visitors / total, 1) if total else 0.0,
            "total_revenue": None,
            "average_revenue": None,
        }
        paying = [g for g in goals if g.revenue_prop]
        if paying:  # an event's revenue is that of the first revenue goal it completes
            values = []
            for e in done:
                goal = next((g for g in paying if completes(g, e)), None)
                value = None if goal is None else revenue(goal, e)
                if value is not None:
                    values.append(value)
            money = sum(values)
            currency = paying[0].currency
            average = money / len(values) if values else 0.0
            out["total_revenue"] = {"value": _round(money, 2), "currency": currency}
            out["average_revenue"] = {"value": _round(average, 2), "currency": currency}
        return out

    def breakdown(self) -> list[dict[str, Any]]:
        """The `property=event:goal` rows: completed goals, most visitors first, then name."""
        rows = [{"goal": g.name, **self.metrics([g])} for g in GOALS]
        rows = [r for r in rows if r["events"]]
        rows.sort(key=lambda r: (-r["visitors"], r["goal"]))
        return rows
