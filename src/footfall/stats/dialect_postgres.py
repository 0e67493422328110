# ruff: noqa: S608 - SQL from allow-listed column names (visit_column_names); values are bound
"""The stats engine's SQL pieces as PostgreSQL spells them.

Registered through the `stats_dialect()` hook of `PostgresStore` (the engine's
`dialect_for` asks the store), so nothing in footfall.stats changes. Every
piece returns exactly what SQLiteDialect returns for the same rows - bucket
labels as text, JSON property values as SQLite's `CAST(json_extract(..) AS
TEXT)` renders them - so both stores agree on every number
(tests/stores/test_stats_backends.py).
"""

from __future__ import annotations

from footfall.columns import VISIT_SOURCE_COLUMNS
from footfall.stats.dialect import DECIMAL, US, Dialect, Params, visit_column_names
from footfall.stats.wildcard import Wildcard

__all__ = ["PostgresDialect"]


class PostgresDialect(Dialect):
    """psycopg placeholders, to_char buckets, jsonb ->, LIKE wildcards, strpos."""

    name = "postgres"
    # No MATERIALIZED hint: PostgreSQL inlines a CTE used once and plans the
    # visits query as one pipeline (docs/decisions/0019-postgres-ctes-inlined.md).
    materialized = ""

    def placeholder(self, index: int) -> str:
        return "%s"

    def visits_select(self, ev: str, columns: list[str], params: Params) -> str | None:
        # One GROUP BY visit_id: the first/last value by (ts, id) is the head
        # of an ordered array_agg, instead of three ROW_NUMBER() sorts.
        def first(col: str, order: str = "ts, id", where: str = "") -> str:
            only = f" FILTER (WHERE {where})" if where else ""
            return f"COALESCE((array_agg({col} ORDER BY {order}){only})[1], '')"

        parts = [
            "visit_id",
            "MIN(ts) AS start_ts",
            "MAX(ts) AS end_ts",
            "COUNT(*) FILTER (WHERE name = 'pageview') AS pageviews",
            "COUNT(*) AS events",
        ]
        for col in visit_column_names(columns):
            if col == "entry_page":
                expr = first("path", where="name = 'pageview'")
            elif col == "exit_page":
                expr = first("path", "ts DESC, id DESC", "name = 'pageview'")
            elif col == "user_id":
                expr = "MAX(user_id)"  # any id seen in the visit, as elsewhere
            else:
                expr = first(VISIT_SOURCE_COLUMNS.get(col, col))
            parts.append(f"{expr} AS {col}")
        # columns checked against the allow-list (visit_column_names)
        return f"SELECT {', '.join(parts)} FROM {ev} WHERE visit_id <> '' GROUP BY visit_id"

    def bucket(self, local_us: str, interval: str) -> str:
        # local_us is already shifted into local time, so render it as UTC.
        stamp = f"(to_timestamp(({local_us}) / {US}) AT TIME ZONE 'UTC')"
        if interval == "hour":
            return f"to_char({stamp}, 'YYYY-MM-DD HH24:00:00')"
        if interval == "week":  # ISO weeks start on Monday, like SQLite's 'weekday 1'
            return f"to_char(date_trunc('week', {stamp}), 'YYYY-MM-DD')"
        if interval == "month":
            return f"to_char({stamp}, 'YYYY-MM-01')"
        return f"to_char({stamp}, 'YYYY-MM-DD')"

    def percentile(self, expr: str, p: float, params: Params) -> str:
        return f"percentile_cont({params.add(float(p))}::float8) WITHIN GROUP (ORDER BY {expr})"

    def json_text(self, column: str, key: str, params: Params) -> str:
        # SQLite's json_extract gives 1/0 for true/false and compact JSON for
        # arrays and objects; match both so breakdown values are identical.
        def node() -> str:  # positional %s: every use binds the key again
            return f"({column} -> {params.add(key)}::text)"

        return (
            f"COALESCE(CASE jsonb_typeof({node()})"
            f" WHEN 'boolean' THEN CASE WHEN ({node()})::text = 'true' THEN '1' ELSE '0' END"
            f" WHEN 'string' THEN {node()} #>> '{{}}'"
            f" WHEN 'number' THEN {node()} #>> '{{}}'"
            f" WHEN 'null' THEN NULL"
            f" ELSE replace(replace(({node()})::text, ': ', ':'), ', ', ',') END, '')"
        )

    def json_number(self, column: str, key: str, params: Params) -> str:
        def node() -> str:  # positional %s: every use binds the key again
            return f"({column} -> {params.add(key)}::text)"

        kind = f"jsonb_typeof({node()}) IN ('number', 'string')"
        test = f"({node()} #>> '{{}}') ~ {params.add(DECIMAL)}::text"
        return f"CASE WHEN {kind} AND {test} THEN ({node()} #>> '{{}}')::float8 END"

    def wildcard_test(self, expr: str, w: Wildcard, params: Params) -> str:
        # LIKE is case-sensitive here, backslash its default escape; PostgreSQL's LIKE
        # gives up at the first `%` that cannot be followed (no backtracking).
        return f"({expr} LIKE {params.add(w.like())}::text)"

    def wildcard_exact(self, expr: str, w: Wildcard, params: Params, test: str) -> str:
        # PostgreSQL's regex engine matches a pattern without back-references as
        # a DFA: linear in the value, and only for rows LIKE let through.
        return f"({test} AND {expr} ~ {params.add(w.regex())}::text)"

    def contains(self, expr: str, needle: str, params: Params) -> str:
        return f"(strpos({expr}, {params.add(needle)}::text) > 0)"
