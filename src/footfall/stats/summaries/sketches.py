"""Unique visitors as HLL sketches (Apache DataSketches): merged on fold, unioned on read.

Each summary row keeps an HLL sketch of its visitors (lg_k=16, relative
standard error 0.4 %; exact below a few thousand visitors per row). The fold
merges a chunk's visitors into the stored sketch (`hll_merge`, an SQL
function on SQLite, in Python on PostgreSQL).

On read, a group (a period total, a breakdown value, a time bucket) is a set of
hourly or daily summary rows. Its visitors are the estimate of the union of
those rows' sketches. Whole months are unioned once and kept in an
in-process cache whose key includes the month's row counters: when an event
lands in that month the counters change, so a stale union is never used.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import date
from typing import Any

import datasketches as ds

from footfall.stats.summaries.dimensions import month_of_day
from footfall.stats.summaries.qmark import run
from footfall.stores.base import Store

__all__ = ["HLL_TYPE", "LG_K", "MONTH_CACHE_SIZE", "estimate", "hll_merge", "visitors_of"]

LG_K = 16
HLL_TYPE = ds.tgt_hll_type.HLL_4
MONTH_CACHE_SIZE = 4096
_MONTHS: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_EPOCH = date(1970, 1, 1)


def hll_merge(old: bytes | None, new: bytes | None) -> bytes | None:
    """SQLite function `footfall_hll_merge`: the union of two serialized sketches."""
    if not old or not new:
        return old or new
    union = ds.hll_union(LG_K)
    union.update(ds.hll_sketch.deserialize(old))
    union.update(ds.hll_sketch.deserialize(new))
    merged: bytes = union.get_result(HLL_TYPE).serialize_compact()
    return merged


def estimate(sketches: list[Any]) -> int:
    """Visitors in the union of deserialized sketches."""
    if not sketches:
        return 0
    if len(sketches) == 1:
        single: float = sketches[0].get_estimate()
        return round(single)
    union = ds.hll_union(LG_K)
    for sk in sketches:
        union.update(sk)
    total: float = union.get_estimate()
    return round(total)


def _month_days(month: int) -> tuple[int, int]:
    first = date(month // 12, month % 12 + 1, 1)
    nxt = date(month // 12 + (month % 12 == 11), (month + 1) % 12 + 1, 1)
    return (first - _EPOCH).days, (nxt - _EPOCH).days - 1


def _fetch_blobs(
    store: Store, site: str, dim: str, fvalue: str, grain: str, wanted: set[tuple[str, int]]
) -> dict[tuple[str, int], bytes]:
    """Blobs of the (value, bucket) rows wanted, in few range queries."""
    found: dict[tuple[str, int], bytes] = {}
    if not wanted:
        return found
    values = sorted({v for v, _ in wanted})
    lo = min(b for _, b in wanted)
    hi = max(b for _, b in wanted)
    for i in range(0, len(values), 400):
        chunk = values[i : i + 400]
        sql = (
            "SELECT value, bucket, visitors FROM stats_sketches WHERE site = ? AND dim = ?"  # noqa: S608
            " AND fvalue = ? AND grain = ? AND bucket BETWEEN ? AND ?"
            f" AND value IN ({','.join('?' * len(chunk))})"
        )
        for value, bucket, blob in run(store, sql, (site, dim, fvalue, grain, lo, hi, *chunk)):
            if (value, bucket) in wanted:
                found[(value, bucket)] = blob
    return found


def visitors_of(
    store: Store,
    site: str,
    dim: str,
    fvalue: str,
    grain: str,
    groups: dict[str, list[tuple[Any, ...]]],
    first_day: int | None = None,
    last_day: int | None = None,
    extra: dict[str, set[str]] | None = None,
) -> dict[str, int]:
    """Visitors per group; rows are (grain, bucket, value, counters...) of stats_rollup."""
    where = (store.location, site, dim, fvalue)
    plans: dict[str, list[tuple[str, Any]]] = {}
    wanted: set[tuple[str, int]] = set()
    for key, rows in groups.items():
        steps: list[tuple[str, Any]] = []
        if grain == "d" and first_day is not None and last_day is not None:
            by_month: dict[tuple[str, int], list[tuple[Any, ...]]] = {}
            for row in rows:
                by_month.setdefault((row[2], month_of_day(row[1])), []).append(row)
            for (value, month), mrows in by_month.items():
                lo, hi = _month_days(month)
                if lo >= first_day and hi <= last_day:
                    ckey = (*where, value, month, tuple(mrows))
                    if ckey not in _MONTHS:
                        wanted.update((value, r[1]) for r in mrows)
                    steps.append(("month", (ckey, [(value, r[1]) for r in mrows])))
                else:
                    for r in mrows:
                        wanted.add((value, r[1]))
                        steps.append(("row", (value, r[1])))
        else:
            for r in rows:
                wanted.add((r[2], r[1]))
                steps.append(("row", (r[2], r[1])))
        plans[key] = steps
    blobs = _fetch_blobs(store, site, dim, fvalue, grain, wanted)
    out: dict[str, int] = {}
    for key, steps in plans.items():
        sketches: list[Any] = []
        for kind, arg in steps:
            if kind == "row":
                blob = blobs.get(arg)
                if blob is not None:
                    sketches.append(ds.hll_sketch.deserialize(blob))
                continue
            ckey, cells = arg
            merged = _MONTHS.get(ckey)
            if merged is None:
                union = ds.hll_union(LG_K)
                for cell in cells:
                    blob = blobs.get(cell)
                    if blob is not None:
                        union.update(ds.hll_sketch.deserialize(blob))
                merged = _MONTHS[ckey] = union.get_result(HLL_TYPE)
                while len(_MONTHS) > MONTH_CACHE_SIZE:
                    _MONTHS.popitem(last=False)
            else:
                _MONTHS.move_to_end(ckey)
            sketches.append(merged)
        if extra and extra.get(key):
            more = ds.hll_sketch(LG_K, HLL_TYPE)
            for visitor in extra[key]:
                more.update(visitor)
            sketches.append(more)
        out[key] = estimate(sketches)
    return out
