"""Funnels: how many visitors went through ordered steps within the period.

A step is `event:page==PATH` (wildcards allowed) or `event:name==NAME`. A
visitor reaches step k when they have events matching steps 1..k in that
order (one event advances at most one step; the earliest match is taken,
which is optimal for ordered matching). This answers the TurboGears
question "how effective is this page in generating a sale" per visitor.
"""

from __future__ import annotations

from typing import Any

from footfall.stats.engine import _round, dialect_for
from footfall.stats.errors import StatsError
from footfall.stats.filters import Condition, parse_filters
from footfall.stats.model import Query
from footfall.stats.sql import Params, cond_sql
from footfall.stores.rows import to_micros

__all__ = ["MAX_STEPS", "funnel", "parse_steps"]

MAX_STEPS = 8


def parse_steps(steps: list[str]) -> list[Condition]:
    if len(steps) < 2:
        raise StatsError("step", "a funnel needs at least 2 steps")
    if len(steps) > MAX_STEPS:
        raise StatsError("step", f"a funnel has at most {MAX_STEPS} steps")
    out: list[Condition] = []
    for text in steps:
        try:
            conditions, goals = parse_filters(text)
        except StatsError as exc:
            raise StatsError("step", exc.message) from None
        if goals or len(conditions) != 1:
            raise StatsError(
                "step", f"{text[:80]!r} must be one event:page or event:name condition"
            )
        c = conditions[0]
        if c.prop.name not in ("event:page", "event:name") or c.op != "is":
            raise StatsError("step", f"{text[:80]!r}: steps use event:page== or event:name==")
        out.append(c)
    return out


def funnel(store: Any, q: Query, steps: list[str]) -> dict[str, Any]:
    """Visitors reaching each step, with conversion and drop-off per step."""
    conditions = parse_steps(steps)
    d = dialect_for(store)
    if d.name == "sqlite":
        d.prepare(store.conn)
    p = Params(d)
    start, end = q.utc_range()
    flags = [f"CASE WHEN {cond_sql(c, d, p)} THEN 1 ELSE 0 END" for c in conditions]
    where = [
        f"e.site = {p.add(q.site)}",
        f"e.ts >= {p.add(to_micros(start))}",
        f"e.ts < {p.add(to_micros(end))}",
        "e.visitor_id <> ''",
    ]
    if not q.include_bots:
        where.append("e.is_bot = 0")
    any_step = " OR ".join(cond_sql(c, d, p) for c in conditions)
    sql = (
        f"SELECT e.visitor_id, {', '.join(flags)} FROM {d.events_table} e"  # noqa: S608 - allow-listed
        f" WHERE {' AND '.join(where)} AND ({any_step}) ORDER BY e.visitor_id, e.ts, e.id"
    )
    reached = [0] * len(conditions)
    current, step = None, 0
    for row in store.query(sql, p.values):
        if row[0] != current:
            current, step = row[0], 0
        if step < len(conditions) and row[1 + step]:
            reached[step] += 1
            step += 1
    entering = reached[0]
    out_steps = []
    for i, (text, n) in enumerate(zip(steps, reached, strict=True)):
        prev = reached[i - 1] if i else n
        out_steps.append(
            {
                "step": i + 1,
                "label": text,
                "visitors": n,
                "conversion_rate": _round(100 * n / entering, 2) if entering else 0.0,
                "conversion_rate_step": _round(100 * n / prev, 2) if prev else 0.0,
                "dropoff": prev - n,
                "dropoff_percentage": _round(100 * (prev - n) / prev, 2) if prev else 0.0,
            }
        )
    return {
        "steps": out_steps,
        "entering_visitors": entering,
        "converted_visitors": reached[-1],
        "conversion_rate": _round(100 * reached[-1] / entering, 2) if entering else 0.0,
    }
