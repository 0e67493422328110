# ruff: noqa: S608 - SQL from allow-listed column names (visit_column_names); values are bound
"""The stats engine's SQL pieces as ClickHouse spells them (18.16 to current).

One SQL text for Debian's ClickHouse 18.16 and for current ClickHouse
(tests/stores/test_stats_backends.py runs every query on both - the real
18.16 server and chDB - and compares every number with SQLite's):

- no CTEs (18.16 has only scalar `WITH`): `ctes = False`, the compiler pastes
  its relations as subqueries, which the named `%(pN)s` placeholders allow;
- no window functions: visits are one `GROUP BY visit_id` with argMin/argMax
  over the tuple `(ts, id)`, the same order SQLite's ROW_NUMBER() uses;
- `ALL INNER JOIN` (18.16 wants the strictness spelled out; the right side
  has one row per visit, so ALL and ANY agree, and ALL means the same on
  every version);
- percentiles from a sorted `groupArray` with percentile_cont's
  interpolation (18.16 has no quantileExactInclusive);
- JSON properties with JSONExtract* from 19.x on; on older servers with the
  visitParam* functions, which read the first `"key":` in the text - exact
  for flat properties, a nested object holding the same key earlier wins.

Placeholders are clickhouse-driver's `%(pN)s`; the store turns the engine's
positional values into that mapping.
"""

from __future__ import annotations

from footfall.columns import VISIT_SOURCE_COLUMNS
from footfall.stats.dialect import DECIMAL, US, Dialect, Params, visit_column_names
from footfall.stats.wildcard import Wildcard

__all__ = ["JSON_FUNCTIONS", "MIN_VERSION", "ClickHouseDialect"]

MIN_VERSION = (18, 16)  # the oldest server the test suite runs against (Debian's)
JSON_FUNCTIONS = (19, 7)  # first release with JSONType / JSONExtract*
_ORDER = "(ts, id)"  # a visit's events in order: what ROW_NUMBER() sorts by elsewhere


# The tables the stats may read events from (pasted into SQL: never user input).
EVENT_TABLES = frozenset({"events", "events_buffer"})


class ClickHouseDialect(Dialect):
    """Named placeholders, inline subqueries, argMin visits, toStartOf* buckets."""

    name = "clickhouse"
    materialized = ""  # ClickHouse has no MATERIALIZED hint on CTEs
    join = "ALL INNER JOIN"
    ctes = False

    def __init__(self, version: tuple[int, ...] = (99,), events_table: str = "events") -> None:
        if events_table not in EVENT_TABLES:
            raise ValueError(f"unknown events table {events_table!r}")
        self.version = version
        self.events_table = events_table

    def placeholder(self, index: int) -> str:
        return f"%(p{index})s"

    def visits_select(self, ev: str, columns: list[str], params: Params) -> str | None:
        # Aggregates get private aliases: ClickHouse aliases are query-wide, so
        # `argMin(visitor_id, ...) AS visitor_id` would feed the alias into itself.
        aggs = [
            "min(ts) AS _start",
            "max(ts) AS _end",
            "countIf(name = 'pageview') AS _pv",
            "count() AS _n",
        ]
        outer = [
            "visit_id",
            "_start AS start_ts",
            "_end AS end_ts",
            "_pv AS pageviews",
            "_n AS events",
        ]
        for col in visit_column_names(columns):
            # argMin over a tuple is ClickHouse's slow generic path (6.5 s vs
            # 1.2 s for the counts alone at 10M events): only what q reads.
            if col == "entry_page":
                agg = f"argMinIf(path, {_ORDER}, name = 'pageview')"  # '' without page views
            elif col == "exit_page":
                agg = f"argMaxIf(path, {_ORDER}, name = 'pageview')"
            elif col == "user_id":
                agg = "max(user_id)"  # any id seen in the visit, as elsewhere
            else:
                agg = f"argMin({VISIT_SOURCE_COLUMNS.get(col, col)}, {_ORDER})"
            aggs.append(f"{agg} AS _v_{col}")
            outer.append(f"_v_{col} AS {col}")
        # column names checked against the allow-list (visit_column_names)
        inner = f"SELECT visit_id, {', '.join(aggs)} FROM {ev} WHERE visit_id != ''"
        return f"SELECT {', '.join(outer)} FROM ({inner} GROUP BY visit_id)"

    def bucket(self, local_us: str, interval: str) -> str:
        # local_us is already shifted into local time, so read it as UTC.
        stamp = f"toDateTime(intDiv({local_us}, {US}), 'UTC')"
        if interval == "hour":
            return f"toString(toStartOfHour({stamp}))"
        if interval == "week":
            return f"toString(toMonday({stamp}))"
        if interval == "month":
            return f"toString(toStartOfMonth({stamp}))"
        return f"toString(toDate({stamp}))"

    def percentile(self, expr: str, p: float, params: Params) -> str:
        # percentile_cont: sort the values, interpolate between the two around
        # (n - 1) * p. The level is a literal from the engine, never input;
        # groupArray skips NULLs; no values -> NULL, as in SQL.
        level = repr(float(p))
        pos = f"((length(a) - 1) * {level})"
        lo = f"toUInt64(floor({pos}))"
        interp = f"a[{lo} + 1] + (a[least({lo} + 2, length(a))] - a[{lo} + 1]) * ({pos} - {lo})"
        sorted_values = f"arraySort(groupArray(toFloat64({expr})))"
        # the lambda names the sorted array once (`a`) instead of six copies
        return (
            f"arrayElement(arrayMap(a -> if(length(a) = 0, NULL, {interp}), [{sorted_values}]), 1)"
        )

    def json_text(self, column: str, key: str, params: Params) -> str:
        # What SQLite's CAST(json_extract(...) AS TEXT) gives: strings unquoted,
        # true/false as 1/0, numbers and nested JSON as compact text, else ''.
        k = params.add(key)
        if self.version >= JSON_FUNCTIONS:
            kind = f"JSONType({column}, {k})"
            return (
                f"multiIf({kind} = 'String', JSONExtractString({column}, {k}),"
                f" {kind} = 'Bool', toString(toUInt8(JSONExtractBool({column}, {k}))),"
                f" {kind} = 'Null', '', JSONExtractRaw({column}, {k}))"
            )
        raw = f"visitParamExtractRaw({column}, {k})"
        return (
            f"multiIf(substring({raw}, 1, 1) = '\"', visitParamExtractString({column}, {k}),"
            f" {raw} = 'true', '1', {raw} = 'false', '0', {raw} = 'null', '', {raw})"
        )

    def json_number(self, column: str, key: str, params: Params) -> str:
        # Strings unquoted, numbers as written; true/false/null/nested give ''.
        if self.version >= JSON_FUNCTIONS:
            kind = f"JSONType({column}, {params.add(key)})"
            text = (
                f"multiIf({kind} = 'String', JSONExtractString({column}, {params.add(key)}),"
                f" {kind} IN ('Int64', 'UInt64', 'Double'),"
                f" JSONExtractRaw({column}, {params.add(key)}), '')"
            )
        else:
            raw = f"visitParamExtractRaw({column}, {params.add(key)})"
            text = (
                f"if(substring({raw}, 1, 1) = '\"',"
                f" visitParamExtractString({column}, {params.add(key)}), {raw})"
            )
        return f"if(match({text}, {params.add(DECIMAL)}), toFloat64OrNull({text}), NULL)"

    def wildcard(self, expr: str, w: Wildcard, params: Params) -> str:
        # match() is RE2: linear in the value by construction, on every version.
        # (?s): `**` also crosses a newline, as GLOB and LIKE do elsewhere.
        return f"match({expr}, {params.add('(?s)' + w.regex())})"

    def contains(self, expr: str, needle: str, params: Params) -> str:
        return f"(position({expr}, {params.add(needle)}) > 0)"
