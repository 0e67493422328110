"""Conversions: the `property=event:goal` breakdown at 1M and 10M events on SQLite.

The data is the stats overview's year of page views for one site
(`bench_stats._rows`, Europe/Berlin) with custom events added to some visits:
`Signup` (a `plan` property) after about 3% of them and `Purchase` (an
`amount`) after about 1.5%. It is generated once, its summaries built with
`footfall.stats.summaries.rebuild`, and cached under bench/.data/
(git-ignored). Six saved goals - two exact pages, a page wildcard, an event,
an event with a property match and a revenue goal - are broken down over the
whole year, unfiltered and filtered by one visit property, from the goal
summaries (`stats_goal_rows`) beside the engine's raw SQL over the events of the
same store (`sql.goal_breakdown_sql`, as the engine ran it before the goal
summaries, visits joined from `stats_visits`), p50 of several runs each, and
the two answers are checked equal.

    python bench/run.py --only goals [--quick]
    FOOTFALL_BENCH_GOALS_SIZES=1000000 python bench/run.py --only goals
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import bench_stats

from footfall import connect
from footfall.stats import make_query, query
from footfall.stats.sql import GOAL_PARTS, goal_breakdown_sql
from footfall.stores.meta import SavedGoal, open_meta
from footfall.stores.rows import COLUMNS

DATA = bench_stats.DATA
SITE = bench_stats.SITE
RUNS = 7
FILTER = "visit:country==DE"
METRICS = "visitors,events,total_revenue,average_revenue"
RATED = f"{METRICS},conversion_rate"
GOALS = [
    SavedGoal(SITE, "Visit /signup", page="/signup"),
    SavedGoal(SITE, "Visit /pricing", page="/pricing"),
    SavedGoal(SITE, "Visit /blog**", page="/blog**"),
    SavedGoal(SITE, "Signup", event="Signup"),
    SavedGoal(SITE, "Signup (plan=pro)", event="Signup", prop_key="plan", prop_value="pro"),
    SavedGoal(SITE, "Purchase", event="Purchase", revenue_prop="amount", currency="EUR"),
]
_IDX = {c: i for i, c in enumerate(COLUMNS)}


def _rows(n_events: int, seed: int = 5) -> Iterator[list[Any]]:
    """The overview's rows with custom events after some visits, n_events in all."""
    rng = random.Random(seed)
    made = 0
    last: list[Any] | None = None
    for row in bench_stats._rows(n_events):
        if made >= n_events:
            return
        if last is not None and row[_IDX["visit_id"]] != last[_IDX["visit_id"]]:
            for name, chance in (("Signup", 0.03), ("Purchase", 0.015)):
                if made < n_events and rng.random() < chance:
                    extra = list(last)
                    extra[_IDX["id"]] = f"c{made:011x}"
                    extra[_IDX["name"]] = name
                    extra[_IDX["ts"]] = last[_IDX["ts"]] + 1_000_000
                    props = (
                        {"plan": rng.choice(["free", "pro", "team"])}
                        if name == "Signup"
                        else {"amount": rng.randint(4, 800) / 4}
                    )
                    extra[_IDX["props"]] = json.dumps(props)
                    yield extra
                    made += 1
        if made < n_events:
            yield row
            made += 1
        last = row


def build(n_events: int) -> Path:
    """The cached database with n_events events, saved goals and complete summaries."""
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"goals-{n_events}.db"
    done = path.with_suffix(".ready")
    if path.exists() and done.exists():
        return path
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        p.unlink(missing_ok=True)
    store = connect(f"sqlite:///{path}")
    store.conn.execute(
        "INSERT INTO sites (domain, timezone, public, created_at) VALUES (?, ?, 0, 0)",
        (SITE, bench_stats.TZ),
    )
    meta = open_meta(store)
    for goal in GOALS:
        meta.add_goal(goal)
    store.close()
    bench_stats.insert_rows(path, _rows(n_events), n_events)
    started = time.perf_counter()
    from footfall.stats.summaries.rebuild import rebuild

    store = connect(f"sqlite:///{path}")
    rebuild(store, SITE)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    print(f"# summaries built in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    done.write_text("ok\n")
    return path


def breakdown(
    store: Any, engine: str, filters: str | None, metrics: str = METRICS
) -> list[dict[str, Any]]:
    """The conversions panel: every saved goal someone completed, over the year."""
    found: list[dict[str, Any]] = query(
        store,
        SITE,
        kind="breakdown",
        property="event:goal",
        metrics=metrics,
        period="custom",
        date=bench_stats.CUSTOM,
        filters=filters,
        engine=engine,
    )
    return found


def raw_sql(store: Any, filters: str | None) -> dict[str, tuple[Any, ...]]:
    """The same goals in the engine's raw SQL over the events table (one scan for all
    goals, visits joined from `stats_visits` as the engine does once a site's summaries
    are complete): {goal: (visitors, events, revenue)}."""
    q = make_query(
        store,
        SITE,
        property="event:goal",
        metrics=METRICS,
        period="custom",
        date=bench_stats.CUSTOM,
        filters=filters,
    )
    q = replace(q, visits_table="stats_visits")
    goals = tuple(q.site_goals)
    d = store.stats_dialect()
    d.prepare(store.conn)
    sql, params = goal_breakdown_sql(q, goals, d)
    row = next(iter(store.query(sql, params)))
    n = len(GOAL_PARTS)
    return {
        g.label: (row[i * n], row[i * n + 1], None if row[i * n + 2] is None else row[i * n + 2])
        for i, g in enumerate(goals)
        if row[i * n + 1]
    }


def raw_visitors(store: Any) -> int:
    """The period's visitors in plain SQL (the conversion rates' denominator)."""
    lo, hi = make_query(store, SITE, period="custom", date=bench_stats.CUSTOM).utc_range()
    sql = (
        "SELECT COUNT(DISTINCT NULLIF(visitor_id, '')) FROM events"
        " WHERE site = ? AND ts >= ? AND ts < ? AND is_bot = 0"
    )
    span = (int(lo.timestamp() * 1e6), int(hi.timestamp() * 1e6))
    return int(store.conn.execute(sql, (SITE, *span)).fetchone()[0])


def _p50(fn: Any, runs: int) -> tuple[float, float]:
    """(first run ms, p50 ms of the later runs)."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return times[0], statistics.median(times[1:] if len(times) > 1 else times)


def run(quick: bool) -> list[dict[str, Any]]:
    sizes = [100_000, 1_000_000] if quick else [1_000_000, 10_000_000]
    sizes = [
        int(s) for s in os.environ.get("FOOTFALL_BENCH_GOALS_SIZES", "").split(",") if s
    ] or sizes
    load = f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    out: list[dict[str, Any]] = [{"benchmark": f"  (load average at start: {load})"}]
    for n in sizes:
        path = build(n)
        store = connect(f"sqlite:///{path}")
        rows = int(store.conn.execute("SELECT COUNT(*) FROM stats_goal_rows").fetchone()[0])
        for filters in (None, FILTER):
            summary = breakdown(store, "summary", filters)
            raw = raw_sql(store, filters)
            got = {
                r["goal"]: (r["visitors"], r["events"], (r["total_revenue"] or {}).get("value"))
                for r in summary
            }
            # Exact: the same numbers both ways (amounts are quarters: sums are exact).
            assert got == {k: (*v[:2], v[2] and round(v[2], 2)) for k, v in raw.items()}
            cold, p50 = _p50(lambda f=filters, s=store: breakdown(s, "summary", f), RUNS)
            _, peer = _p50(lambda f=filters, s=store: raw_sql(s, f), 3)
            label = f"filtered by {filters}" if filters else "unfiltered"
            out.append(
                {
                    "benchmark": f"goals breakdown ({len(GOALS)} goals, a year) {label},"
                    f" {n / 1e6:g}M events, summaries ({rows:,} goal rows), p50"
                    f" (first run {cold:.0f} ms)",
                    "footfall": round(p50, 1),
                    "peer": "raw SQL, same store",
                    "peer_value": round(peer, 1),
                    "ratio": round(peer / p50, 1) if p50 else None,
                    "unit": "ms",
                    "goal": "<= 100 ms" if n >= 10_000_000 and filters is None else "",
                }
            )
        # With conversion rates: the period's visitors beside them, from the overview's
        # summaries (a sketch union) vs a COUNT(DISTINCT) over the raw events.
        cold, p50 = _p50(lambda s=store: breakdown(s, "auto", None, RATED), RUNS)
        _, peer = _p50(lambda s=store: (raw_sql(s, None), raw_visitors(s)), 3)
        out.append(
            {
                "benchmark": f"  same with conversion_rate, {n / 1e6:g}M events, p50"
                f" (first run {cold:.0f} ms)",
                "footfall": round(p50, 1),
                "peer": "raw SQL + raw visitors, same store",
                "peer_value": round(peer, 1),
                "ratio": round(peer / p50, 1) if p50 else None,
                "unit": "ms",
                "goal": "",
            }
        )
        store.close()
    return out


if __name__ == "__main__":
    for row in run("--quick" in sys.argv):
        print(row)
