"""The one place where SQL differs between stores.

The compiler (`footfall.stats.sql`) writes portable SQL and asks its
`Dialect` for every piece that is not: bound-parameter placeholders, a UTC
timestamp shifted into the site's local time, a time bucket label, a
percentile, a JSON property, a page-path wildcard match and a substring test.
PostgreSQL and ClickHouse stores subclass `Dialect` and override these
methods; nothing else in the stats engine needs to change.

Storage is UTC microseconds (`ts`). Local time is `ts + offset`, where the
offset is a piecewise constant: Python's zoneinfo computes the DST
transitions inside the queried range and the SQL gets a small CASE over them,
so every dialect can bucket in any IANA time zone without database support.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from footfall.columns import PAGE_VISIT_PROPERTIES, VISIT_SOURCE_COLUMNS
from footfall.stats.wildcard import Wildcard, parse_wildcard, segment_glob

__all__ = [
    "DECIMAL",
    "Dialect",
    "Params",
    "SQLiteDialect",
    "offset_segments",
    "visit_column_names",
]

US = 1_000_000
# A revenue value: a plain decimal number (JSON number or string), no exponent;
# digits bounded so every store converts it to a double without overflow.
DECIMAL = r"^-?[0-9]{1,15}(\.[0-9]{1,15})?$"
_DECIMAL = re.compile(DECIMAL)
# The columns of the stats' visit relation a query may read (pasted into SQL).
_VISIT_COLUMNS = frozenset(("visitor_id", *PAGE_VISIT_PROPERTIES, *VISIT_SOURCE_COLUMNS))


def visit_column_names(columns: list[str]) -> list[str]:
    """`columns`, each checked to be a visit column (they are pasted into SQL)."""
    unknown = set(columns) - _VISIT_COLUMNS
    if unknown:
        raise ValueError(f"not visit columns: {sorted(unknown)}")
    return columns


class Params:
    """Collects bound values; `add` returns the placeholder to paste instead of the value."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.values: list[Any] = []

    def add(self, value: Any) -> str:
        self.values.append(value)
        return self.dialect.placeholder(len(self.values))


def offset_segments(tz: ZoneInfo, lo_us: int, hi_us: int) -> list[tuple[int, int]]:
    """[(from_utc_us, offset_us), ...] covering [lo, hi): the first `from` is lo."""
    start = datetime.fromtimestamp(lo_us / US, timezone.utc)
    end = datetime.fromtimestamp(hi_us / US, timezone.utc)

    def off(t: datetime) -> int:
        delta = t.astimezone(tz).utcoffset() or timedelta(0)
        return int(delta.total_seconds()) * US

    segments = [(lo_us, off(start))]
    step = timedelta(hours=6)  # no zone changes its offset twice within 6 hours
    t = start
    while t < end:
        nxt = min(t + step, end)
        if off(nxt) != off(t):
            a, b = t, nxt  # binary search the transition to the second
            while (b - a) > timedelta(seconds=1):
                mid = a + (b - a) / 2
                if off(mid) == off(a):
                    a = mid
                else:
                    b = mid
            b = b.replace(microsecond=0)
            segments.append((int(b.timestamp()) * US, off(nxt)))
        t = nxt
    return segments


@lru_cache(maxsize=256)
def _wildcard_of(pattern: str) -> Wildcard:
    return parse_wildcard(pattern)


def _wildcard_matches(value: Any, pattern: str | None) -> int:
    """SQLite `footfall_wildcard(value, pattern)`: the exact test for mixed `*`/`**`,
    linear in the value; only called for rows the GLOB pre-filter let through."""
    if pattern is None or value is None:
        return 0
    return int(_wildcard_of(pattern).matches(str(value)))


def _decimal(kind: Any, value: Any) -> float | None:
    """SQLite `footfall_number(json_type, json_extract)`: a revenue value, or NULL."""
    if kind not in ("integer", "real", "text") or value is None:
        return None
    text = str(value)
    return float(text) if _DECIMAL.match(text) else None


class _Percentile:
    """SQLite aggregate `footfall_percentile(x, p)`: linear interpolation (percentile_cont)."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.p = 0.5

    def step(self, value: Any, p: float) -> None:
        if value is not None:
            self.values.append(float(value))
            self.p = float(p)

    def finalize(self) -> float | None:
        if not self.values:
            return None
        values = sorted(self.values)
        pos = (len(values) - 1) * self.p
        lo = int(pos)
        hi = min(lo + 1, len(values) - 1)
        return values[lo] + (values[hi] - values[lo]) * (pos - lo)


class Dialect:
    """Portable SQL pieces; subclasses override what their database spells differently."""

    name = "generic"
    materialized = "MATERIALIZED "  # compute the visits CTE once, not per reference
    join = "JOIN"  # events (outer) joined to their visits (inner)
    # False: relations are pasted as subqueries (needs named placeholders).
    ctes = True
    # Where the stats read events: a store that writes through a buffer (ClickHouse's
    # opt-in Buffer table) reads through it too, so answers include what it holds.
    events_table = "events"

    def placeholder(self, index: int) -> str:
        return "?"

    def visits_select(self, ev: str, columns: list[str], params: Params) -> str | None:
        """One row per visit from the events relation `ev`, or None for the portable form.

        The portable form numbers each visit's events with three ROW_NUMBER()
        window sorts; a database with ordered aggregates (ClickHouse's argMin,
        PostgreSQL's array_agg ... ORDER BY) answers the same in one GROUP BY
        visit_id. Output columns: visit_id, start_ts, end_ts, pageviews,
        events, and each of `columns` (only those the query reads): entry_page
        and exit_page are the first / last page view's path by (ts, id), else
        ''; user_id the greatest seen; visitor_id and the other visit
        properties the first event's value by (ts, id). Events with an empty
        visit_id belong to no visit.
        """
        return None

    def local_us(self, column: str, segments: list[tuple[int, int]], params: Params) -> str:
        """`column` (UTC microseconds) shifted by the site's offset at that instant."""
        if len(segments) == 1:
            return f"({column} + {params.add(segments[0][1])})"
        whens = []
        for (_, offset), (until, _) in pairwise(segments):
            whens.append(f"WHEN {column} < {params.add(until)} THEN {params.add(offset)}")
        return f"({column} + CASE {' '.join(whens)} ELSE {params.add(segments[-1][1])} END)"

    def bucket(self, local_us: str, interval: str) -> str:
        """A text label of the local time bucket: '2026-10-01', '2026-10-01 13:00:00'."""
        raise NotImplementedError

    def percentile(self, expr: str, p: float, params: Params) -> str:
        return f"percentile_cont({params.add(p)}) WITHIN GROUP (ORDER BY {expr})"

    def json_text(self, column: str, key: str, params: Params) -> str:
        raise NotImplementedError

    def json_number(self, column: str, key: str, params: Params) -> str:
        """The property `key` as a double when it is a plain decimal number
        (`DECIMAL`: a JSON number or a string), else NULL."""
        raise NotImplementedError

    def wildcard(self, expr: str, w: Wildcard, params: Params) -> str:
        """`expr` matches the page-path wildcard `w`, without backtracking.

        `*` alone: the GLOB/LIKE test plus "as many `/` as the literals" (a `*`
        that crossed one would add a `/`), which together are exact; `**`
        alone: the GLOB/LIKE test is exact; both: that test, then the
        dialect's exact one (`wildcard_exact`) on the rows it lets through.
        Values are bound in the order the text uses them (positional dialects).
        """
        test = self.wildcard_test(expr, w, params)
        if w.within and not w.crosses:
            slashes = f"(length({expr}) - length(replace({expr}, '/', '')))"
            return f"({test} AND {slashes} = {params.add(w.slashes)})"
        if not w.within:
            return test
        return self.wildcard_exact(expr, w, params, test)

    def wildcard_test(self, expr: str, w: Wildcard, params: Params) -> str:
        """GLOB/LIKE with every wildcard as "anything": exact for `**` alone."""
        return f"({expr} LIKE {params.add(w.like())})"

    def wildcard_exact(self, expr: str, w: Wildcard, params: Params, test: str) -> str:
        """`test` (already written) and the exact match for mixed `*` and `**`."""
        raise NotImplementedError

    def contains(self, expr: str, needle: str, params: Params) -> str:
        return f"(POSITION({params.add(needle)} IN {expr}) > 0)"

    def prepare(self, conn: Any) -> None:
        """Register functions the SQL above relies on (once per connection)."""


class SQLiteDialect(Dialect):
    """SQLite: strftime for buckets, json_extract, GLOB wildcards, a Python percentile."""

    name = "sqlite"
    # SQLite may otherwise loop over visits and range-scan events for each one;
    # CROSS JOIN keeps events outer and looks visits up by an automatic index.
    join = "CROSS JOIN"

    def bucket(self, local_us: str, interval: str) -> str:
        seconds = f"({local_us} / {US})"
        if interval == "hour":
            return f"strftime('%Y-%m-%d %H:00:00', {seconds}, 'unixepoch')"
        if interval == "week":  # Monday on or before the day
            return f"date({seconds}, 'unixepoch', '-6 days', 'weekday 1')"
        if interval == "month":
            return f"strftime('%Y-%m-01', {seconds}, 'unixepoch')"
        return f"date({seconds}, 'unixepoch')"

    def percentile(self, expr: str, p: float, params: Params) -> str:
        return f"footfall_percentile({expr}, {params.add(p)})"

    def json_text(self, column: str, key: str, params: Params) -> str:
        path = '$."' + key.replace('"', "") + '"'
        return f"COALESCE(CAST(json_extract({column}, {params.add(path)}) AS TEXT), '')"

    def json_number(self, column: str, key: str, params: Params) -> str:
        path = '$."' + key.replace('"', "") + '"'
        kind = f"json_type({column}, {params.add(path)})"
        return f"footfall_number({kind}, json_extract({column}, {params.add(path)}))"

    def wildcard_test(self, expr: str, w: Wildcard, params: Params) -> str:
        # GLOB, not LIKE: case-sensitive, like the paths. SQLite's GLOB gives up
        # at the first `*` that cannot be followed, so it never backtracks.
        return f"({expr} GLOB {params.add(w.glob())})"

    def wildcard_exact(self, expr: str, w: Wildcard, params: Params, test: str) -> str:
        if len(w.chunks) == 2:
            return f"({test} AND {_one_crossing(expr, w, params)})"
        # Two `**` or more: CASE, so the Python check runs only where GLOB (in C,
        # without the GIL) matched.
        check = f"footfall_wildcard({expr}, {params.add(w.pattern)})"
        return f"(CASE WHEN {test} THEN {check} ELSE 0 END)"

    def contains(self, expr: str, needle: str, params: Params) -> str:
        return f"(instr({expr}, {params.add(needle)}) > 0)"

    def prepare(self, conn: Any) -> None:
        if isinstance(conn, sqlite3.Connection):
            conn.create_function("footfall_wildcard", 2, _wildcard_matches, deterministic=True)
            conn.create_function("footfall_number", 2, _decimal, deterministic=True)
            conn.create_aggregate("footfall_percentile", 2, _Percentile)  # type: ignore[arg-type]


def _one_crossing(expr: str, w: Wildcard, params: Params) -> str:
    """`C0 ** C1` (each with `*` only) exactly, in C: on the path's segments.

    With exactly as many `/` as C0 and C1 hold, the `**` stays within one
    segment and every `/` is a literal's, so the GLOB of the whole (the
    pre-filter this is ANDed to) is exact.
    With more, C0 is the first segments (its last glob a prefix of its last
    one) and C1 the last ones, apart: a GLOB per segment, where `*` cannot
    meet a `/`. The segments come from the path as a JSON array.
    """
    head, tail = w.chunks
    m0, m1 = len(head) - 1, len(tail) - 1
    segments = f"('[' || replace(json_quote({expr}), '/', '\",\"') || ']')"
    count = f"json_array_length({segments})"

    def seg(path: str, glob: str) -> str:  # path: a JSON path we write, never input
        return f"json_extract({segments}, '{path}') GLOB {params.add(glob)}"

    same = f"{count} = {m0 + m1 + 1}"
    apart = [seg(f"$[{j}]", segment_glob(head[j])) for j in range(m0)]
    apart.append(seg(f"$[{m0}]", segment_glob(head[m0]) + "*"))
    apart.append(seg(f"$[#-{m1 + 1}]", "*" + segment_glob(tail[0])))
    apart += [seg(f"$[#-{m1 + 1 - j}]", segment_glob(tail[j])) for j in range(1, m1 + 1)]
    return f"({same} OR ({count} > {m0 + m1 + 1} AND {' AND '.join(apart)}))"
