"""Which custom property keys a site's events carry in a period, most common first.

The dashboard's Properties panel offers the keys to break down by
(`event:props:KEY`). Props are free-form JSON, so there is no list of keys
to read: this looks at the newest `SCAN_EVENTS` events of the period
(through the events' (site, ts) order, so the cost is bounded however busy
the site is), takes up to `SAMPLE_EVENTS` custom events with props among
them, and ranks their keys by how many of those events carry each. A key
only sent by events older than that window is not offered (the API still
answers for it). Keys the stats API would refuse (`properties.PROP_KEY`)
are left out. The SQL only fetches the props text; the keys are counted
here, the same way on every store (ClickHouse 18.16 has no function to list
a JSON object's keys).

ClickHouse 18.16 sorts the whole range to find its newest events (it cannot
read in the order key's order): 0.5 s at 10M events, on every dashboard
page. With the summaries there, the range is first cut to its newest hours
that hold `SCAN_EVENTS` events by the hour counters (`_newest_hours`): the
newest events all lie in those hours, and the events' order key starts with
the day, so the scan reads those days only.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import orjson

from footfall.stats.dialect import Params
from footfall.stats.engine import dialect_for
from footfall.stats.properties import PROP_KEY
from footfall.stats.summaries import clickhouse_sql
from footfall.stats.summaries.clickhouse_compact import has_summaries

__all__ = ["MAX_KEYS", "NOT_CUSTOM", "SAMPLE_EVENTS", "SCAN_EVENTS", "prop_keys"]

SCAN_EVENTS = 50_000  # newest events of the period looked at, whatever their name
SAMPLE_EVENTS = 5_000  # custom events with props read from those
MAX_KEYS = 50
# Event names that are not custom events (their props are the request's, not the app's).
NOT_CUSTOM = ("pageview", "request")


def _micros(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000)


def _newest_hours(store: Any, site: str, start: datetime, end: datetime) -> datetime:
    """Where the newest whole UTC hours of [start, end) holding SCAN_EVENTS events
    begin, by ClickHouse's hour counters; `start` when they cannot say.

    The counters leave bots out, so those hours hold at least that many events:
    the newest SCAN_EVENTS events of the range are all in them. A site whose
    summaries are not complete (a delete since the last rebuild) keeps `start`.
    """
    if not has_summaries(store):
        return start
    found = store.query(clickhouse_sql.SITE_COMPLETE, {"site": site})
    if found and not int(found[0][0]):
        return start
    hour_us = clickhouse_sql.HOUR_US
    lo, hi = _micros(start) // hour_us, -(-_micros(end) // hour_us)
    rows = store.query(clickhouse_sql.HOUR_ROWS, {"site": site, "lo": lo, "hi": hi})
    seen = 0
    for hour, events in sorted(((int(r[0]), int(r[2])) for r in rows), reverse=True):
        seen += events
        if seen >= SCAN_EVENTS:
            return max(start, datetime.fromtimestamp(hour * 3600, start.tzinfo))
    return start


def prop_keys(
    store: Any,
    site: str,
    start: datetime,
    end: datetime,
    *,
    event: str | None = None,
    limit: int = MAX_KEYS,
) -> list[str]:
    """Up to `limit` property keys of `site`'s custom events in [start, end), most common
    first (ties by name); only events called `event` when it is given."""
    d = dialect_for(store)
    if d.name == "clickhouse":
        start = _newest_hours(store, site, start, end)
    params = Params(d)
    text = "props::text" if d.name == "postgres" else "props"
    empty = "'{}'::jsonb" if d.name == "postgres" else "'{}'"
    recent = (
        f"SELECT name, props, is_bot FROM {d.events_table} WHERE site = {params.add(site)}"  # noqa: S608 - fixed names; values bound
        f" AND ts >= {params.add(_micros(start))} AND ts < {params.add(_micros(end))}"
        f" ORDER BY ts DESC LIMIT {params.add(SCAN_EVENTS)}"
    )
    if event is None:
        named = f"name NOT IN ({', '.join(params.add(n) for n in NOT_CUSTOM)})"
    else:
        named = f"name = {params.add(event)}"
    sql = (
        f"SELECT {text} FROM ({recent}) AS recent"  # noqa: S608 - fixed names; values bound
        f" WHERE is_bot = 0 AND {named} AND props <> {empty} LIMIT {params.add(SAMPLE_EVENTS)}"
    )
    counts: Counter[str] = Counter()
    for (raw,) in store.query(sql, params.values):
        try:
            props = orjson.loads(raw) if isinstance(raw, (str, bytes)) else raw
        except orjson.JSONDecodeError:
            continue
        if isinstance(props, dict):
            counts.update(k for k in props if isinstance(k, str) and PROP_KEY.match(k))
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [key for key, _ in ranked[: max(0, limit)]]
