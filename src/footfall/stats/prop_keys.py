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
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import orjson

from footfall.stats.dialect import Params
from footfall.stats.engine import dialect_for
from footfall.stats.properties import PROP_KEY

__all__ = ["MAX_KEYS", "NOT_CUSTOM", "SAMPLE_EVENTS", "SCAN_EVENTS", "prop_keys"]

SCAN_EVENTS = 50_000  # newest events of the period looked at, whatever their name
SAMPLE_EVENTS = 5_000  # custom events with props read from those
MAX_KEYS = 50
# Event names that are not custom events (their props are the request's, not the app's).
NOT_CUSTOM = ("pageview", "request")


def _micros(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000)


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
