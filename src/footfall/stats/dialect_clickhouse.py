"""The stats engine's SQL pieces as ClickHouse spells them (ClickHouse >= 21.9).

The shared compiler uses CTEs (`WITH ev AS (...)`) and window functions
(`ROW_NUMBER() OVER`) to build visits in SQL; ClickHouse has both since
21.9, so this dialect serves current ClickHouse and chDB. Debian's 18.16 has
neither: `ClickHouseStore.stats_dialect()` says so with a 501 rather than
sending SQL it cannot parse. tests/stores/test_stats_clickhouse.py runs the
whole engine through chDB and compares every number with SQLite's.

Placeholders are clickhouse-driver's `%(pN)s`; the store turns the engine's
positional values into that mapping.
"""

from __future__ import annotations

from footfall.stats.dialect import US, Dialect, Params

__all__ = ["MIN_VERSION", "ClickHouseDialect"]

MIN_VERSION = (21, 9)  # CTE subqueries and window functions


class ClickHouseDialect(Dialect):
    """Named placeholders, toStartOf* buckets, JSONExtract, re2 match, quantiles."""

    name = "clickhouse"
    materialized = ""  # ClickHouse has no MATERIALIZED hint on CTEs

    def placeholder(self, index: int) -> str:
        return f"%(p{index})s"

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
        # percentile_cont's linear interpolation; the level must be a literal
        # (it comes from the engine, never from input). No rows -> NULL, as SQL.
        level = repr(float(p))
        return f"if(count({expr}) = 0, NULL, quantileExactInclusive({level})({expr}))"

    def json_text(self, column: str, key: str, params: Params) -> str:
        # What SQLite's CAST(json_extract(...) AS TEXT) gives: strings unquoted,
        # true/false as 1/0, numbers and nested JSON as compact text, else ''.
        k = params.add(key)
        kind = f"JSONType({column}, {k})"
        return (
            f"multiIf({kind} = 'String', JSONExtractString({column}, {k}),"
            f" {kind} = 'Bool', toString(JSONExtractUInt({column}, {k})),"
            f" {kind} = 'Null', '', JSONExtractRaw({column}, {k}))"
        )

    def regex(self, expr: str, pattern: str, params: Params) -> str:
        return f"match({expr}, {params.add(pattern)})"

    def contains(self, expr: str, needle: str, params: Params) -> str:
        return f"(position({expr}, {params.add(needle)}) > 0)"
