# ruff: noqa: S608 - fixed SQL; the table name comes from the dialect, values are bound (Params)
"""What each kind of alert measures, and when it fires: one query per kind.

The queries read the raw events of the event store (SQLite, PostgreSQL or
ClickHouse) through the stats engine's dialect, so they are the same SQL the
stats run, with bound values only:

- spike: the realtime visitors of the stats API (`stats.realtime`), above
  the threshold;
- drop: the last complete UTC hour's pageviews (bots excluded), below the
  threshold percent of the same hour 7 days before, when that hour had at
  least `min_requests` pageviews (never fewer than one);
- errors: per path, the share of 5xx among the `request` and `pageview`
  events with a status (the server-side ones) in the window, above the
  threshold percent, for paths with at least `min_requests` of them;
- slow: per path, the p95 of `duration_ms` of those events, above the
  threshold in milliseconds, with the same minimum.

A measurement names the subjects firing now ("" for a whole-site kind, a
path otherwise); whatever is not named is not firing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from footfall.stats.dialect import Params
from footfall.stats.engine import dialect_for
from footfall.stats.realtime import realtime_visitors
from footfall.stores.meta_records import AlertRule
from footfall.stores.rows import to_micros

__all__ = [
    "DEFAULT_MIN_REQUESTS",
    "DEFAULT_WINDOW",
    "MAX_WINDOW",
    "Measurement",
    "describe",
    "measure",
    "parse_window",
]

DEFAULT_WINDOW = 15 * 60  # seconds: the errors and slow kinds' window unless given
MAX_WINDOW = 24 * 3600
DEFAULT_MIN_REQUESTS = {"spike": 0, "drop": 10, "errors": 20, "slow": 20}
WEEK = timedelta(days=7)
# The server-side events that carry a status and a duration (the web integrations').
_SERVER_EVENTS = "name IN ('request', 'pageview') AND status > 0"
_WINDOW = re.compile(r"^\s*(\d+)\s*(s|m|h)?\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600}


def parse_window(text: str) -> int:
    """`15m`, `5m`, `1h`, `90s` (a bare number is minutes) -> seconds, 1 min to 24 h."""
    m = _WINDOW.match(text.lower())
    if not m:
        raise ValueError(f"a window like 5m, 15m or 1h, not {text!r}")
    seconds = int(m.group(1)) * _UNIT[m.group(2) or "m"]
    if not 60 <= seconds <= MAX_WINDOW:
        raise ValueError(f"a window from 1m to 24h, not {text!r}")
    return seconds


@dataclass(frozen=True)
class Measurement:
    """The subjects firing now, with their values; `value` is a whole-site kind's
    reading (firing or not: the resolved message quotes it), else None."""

    firing: dict[str, float] = field(default_factory=dict)
    value: float | None = None


def describe(rule: AlertRule) -> str:
    """The condition in words: `current visitors above 100`."""
    t = f"{rule.threshold:g}"
    if rule.kind == "spike":
        return f"current visitors above {t}"
    if rule.kind == "drop":
        return f"last hour's pageviews below {t}% of the same hour last week"
    window = _window_text(rule.window_seconds or DEFAULT_WINDOW)
    if rule.kind == "errors":
        return (
            f"5xx responses above {t}% of a path's requests over {window} "
            f"(at least {rule.min_requests} requests)"
        )
    return (
        f"a path's p95 response time above {t} ms over {window} "
        f"(at least {rule.min_requests} requests)"
    )


def _window_text(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def measure(store: Any, rule: AlertRule, now: datetime | None = None) -> Measurement:
    """Evaluate `rule` over the events of `store` at `now` (default: the current time)."""
    at = now or datetime.now(timezone.utc)
    if rule.kind == "spike":
        visitors = float(realtime_visitors(store, rule.site, at))
        return Measurement({"": visitors} if visitors > rule.threshold else {}, visitors)
    if rule.kind == "drop":
        return _drop(store, rule, at)
    if rule.kind == "errors":
        return Measurement(_errors(store, rule, at))
    if rule.kind == "slow":
        return Measurement(_slow(store, rule, at))
    raise ValueError(f"unknown alert kind {rule.kind!r}")


def _pageviews(store: Any, site: str, start: datetime, end: datetime) -> int:
    d = dialect_for(store)
    p = Params(d)
    rows = store.query(
        f"SELECT COUNT(*) FROM {d.events_table} WHERE site = {p.add(site)}"
        f" AND ts >= {p.add(to_micros(start))} AND ts < {p.add(to_micros(end))}"
        " AND name = 'pageview' AND is_bot = 0",
        p.values,
    )
    return int(rows[0][0] or 0)


def _drop(store: Any, rule: AlertRule, at: datetime) -> Measurement:
    end = at.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=1)
    now_count = _pageviews(store, rule.site, start, end)
    before = _pageviews(store, rule.site, start - WEEK, end - WEEK)
    if before < max(1, rule.min_requests):
        return Measurement()  # too little last week to compare with
    percent = 100.0 * now_count / before
    return Measurement({"": percent} if percent < rule.threshold else {}, percent)


def _window(rule: AlertRule, at: datetime, p: Params) -> str:
    seconds = rule.window_seconds or DEFAULT_WINDOW
    lo, hi = to_micros(at - timedelta(seconds=seconds)), to_micros(at)
    return f"ts >= {p.add(lo)} AND ts < {p.add(hi)}"


def _errors(store: Any, rule: AlertRule, at: datetime) -> dict[str, float]:
    d = dialect_for(store)
    p = Params(d)
    inner = (
        "SELECT path, COUNT(*) AS n,"
        " SUM(CASE WHEN status >= 500 AND status < 600 THEN 1 ELSE 0 END) AS e"
        f" FROM {d.events_table} WHERE site = {p.add(rule.site)} AND {_window(rule, at, p)}"
        f" AND {_SERVER_EVENTS} GROUP BY path"
    )
    sql = (
        f"SELECT path, n, e FROM ({inner}) t WHERE n >= {p.add(max(1, rule.min_requests))}"
        f" AND e * 100 > {p.add(float(rule.threshold))} * n"
    )
    return {str(r[0]): 100.0 * float(r[2]) / float(r[1]) for r in store.query(sql, p.values)}


def _slow(store: Any, rule: AlertRule, at: datetime) -> dict[str, float]:
    d = dialect_for(store)
    if d.name == "sqlite":
        d.prepare(store.conn)  # the percentile is a function registered per connection
    p = Params(d)
    p95 = d.percentile("duration_ms", 0.95, p)
    inner = (
        f"SELECT path, COUNT(*) AS n, {p95} AS p95"
        f" FROM {d.events_table} WHERE site = {p.add(rule.site)} AND {_window(rule, at, p)}"
        f" AND {_SERVER_EVENTS} GROUP BY path"
    )
    sql = (
        f"SELECT path, p95 FROM ({inner}) t WHERE n >= {p.add(max(1, rule.min_requests))}"
        f" AND p95 > {p.add(float(rule.threshold))}"
    )
    return {str(r[0]): float(r[1]) for r in store.query(sql, p.values)}
