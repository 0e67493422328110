"""What a summary row is keyed by: the event columns read, the dimensions, local buckets.

A summary row (`stats_rollup` counters, `stats_sketches` visitors) is keyed
by (dimension, filter value, grain, bucket, value): the dimension is a
property (or `""`/`visit` for site totals, or a `filter|breakdown` pair), the
grain `h` or `d`, the bucket a local hour or day number in the site's time
zone. The fold (`fold.py`, `visits.py`) adds to rows in an `Acc` before
writing them; the read side (`read.py`) asks for the same keys.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from footfall.columns import (
    PAGE_VISIT_PROPERTIES,
    SUMMARISED_EVENT_PROPERTIES,
    SUMMARISED_VISIT_PROPERTIES,
)

__all__ = [
    "CROSS_DIMS",
    "DAY_US",
    "EVENT_DIMS",
    "FILTER_DIMS",
    "FIRST_VISIT_COL",
    "HOUR_US",
    "NO_SKETCH",
    "ROW_COLS",
    "VISIT_ATTRS",
    "VISIT_DIMS",
    "Acc",
    "Clock",
    "Key",
    "clock_for",
    "month_of_day",
    "row_of",
]

HOUR_US = 3_600_000_000
DAY_US = 86_400_000_000

# Column order of the event rows the fold reads (straight from SQL): the columns
# the fold's code reads by position, the other columns of summarised event
# properties, then the event columns of the summarised visit properties.
_FIXED = ("id", "ts", "name", "path", "host", "status", "bytes", "visitor_id", "visit_id", "props")
_EVENT_EXTRA = tuple(p.column for p in SUMMARISED_EVENT_PROPERTIES if p.column not in _FIXED)
ROW_COLS = (*_FIXED, *_EVENT_EXTRA, *(p.source for p in SUMMARISED_VISIT_PROPERTIES))
# ROW_COLS[FIRST_VISIT_COL:] are the visit properties taken from a visit's first event.
FIRST_VISIT_COL = len(_FIXED) + len(_EVENT_EXTRA)
VISIT_ATTRS = tuple(p.name for p in SUMMARISED_VISIT_PROPERTIES)
VISIT_DIMS = (*PAGE_VISIT_PROPERTIES, *VISIT_ATTRS)
EVENT_DIMS = tuple(p.name for p in SUMMARISED_EVENT_PROPERTIES)
# Two-dimensional keys (filter by FILTER_DIMS, break down by CROSS_DIMS): each pair
# costs write time, so only the dashboard's most used filters are materialised.
FILTER_DIMS = ("country", "device")
CROSS_DIMS = ("page", "source", "country", "device", "browser", "os")
# Values that change as a visit grows (sketches cannot forget): their visitors are added
# when the visit closes (fold.close_idle_visits), not as it grows.
NO_SKETCH = ("exit_page",)

# (dim, fvalue, grain, bucket, value)
Key = tuple[str, str, str, int, str]
# Key -> [visits, bounces, duration, pageviews, events, requests, bytes, errors, visitors]
Acc = dict[Key, list[Any]]


def row_of(acc: Acc, key: Key) -> list[Any]:
    """The accumulated row of `key`, zeros and no visitors when new."""
    row = acc.get(key)
    if row is None:
        row = acc[key] = [0, 0, 0, 0, 0, 0, 0, 0, set()]
    return row


class Clock:
    """UTC microseconds -> local (hour, day) numbers, the offset cached per UTC hour."""

    def __init__(self, tz: str) -> None:
        self.zone = ZoneInfo(tz)
        self._offsets: dict[int, int] = {}

    def local(self, ts_us: int) -> tuple[int, int]:
        """(local hour number, local day number) since the epoch."""
        hour = ts_us // HOUR_US
        off = self._offsets.get(hour)
        if off is None:
            at = datetime.fromtimestamp(hour * 3600, timezone.utc).astimezone(self.zone)
            off = int((at.utcoffset() or timedelta(0)).total_seconds()) * 1_000_000
            self._offsets[hour] = off
        local = ts_us + off
        return local // HOUR_US, local // DAY_US


@lru_cache(maxsize=64)
def clock_for(tz: str) -> Clock:
    """One `Clock` per zone, shared by every fold."""
    return Clock(tz)


@lru_cache(maxsize=200_000)
def month_of_day(day: int) -> int:
    """The month number (year * 12 + month - 1) of a day number."""
    d = date(1970, 1, 1) + timedelta(days=day)
    return d.year * 12 + d.month - 1
