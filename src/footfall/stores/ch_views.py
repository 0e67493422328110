"""The materialized views ClickHouse's stats summaries are filled by (migration 0002).

Part of the ClickHouse schema, so it lives beside the migrations: three
views fold each block inserted into `events` into per-(site, UTC hour)
states - counters, unique-visitor sketches and the newest insert time
(`stats_hours`), day sketches (`stats_days`) and one row per visit and hour
(`stats_visit_parts`). Migration 0002's `{stats_hours}`-style placeholders
are filled with these SELECTs (`migration_statements`), `summaries=off`
drops and recreates the views (`view_ddl`), and the rebuild runs the same
SELECTs over one site's stored events (`mv_select`), so the two can never
count differently. What reads and compacts the summaries is
`footfall.stats.summaries`.

No alias equals an `events` column: ClickHouse aliases are query-wide, and
`sumState(bytes) AS bytes` would read its own alias.
"""

from __future__ import annotations

from footfall.stores.migrate import Migration

__all__ = [
    "MARK_ALL_INCOMPLETE",
    "MV_SELECTS",
    "VIEW_TABLES",
    "migration_statements",
    "mv_select",
    "view_ddl",
]

_MV_SELECTS = {
    "stats_hours": (
        "SELECT site, intDiv(ts, 3600000000) AS hour, maxState(now()) AS last_insert,"
        " sumState(toUInt64(name = 'pageview')) AS pageviews, countState() AS events,"
        " sumState(toUInt64(name = 'request')) AS requests, sumState(bytes) AS bytes_sent,"
        " sumState(toUInt64(name = 'request' AND status >= 500)) AS errors,"
        " uniqCombinedIfState(visitor_id, visitor_id != '') AS visitors"
        " FROM events WHERE is_bot = 0{where} GROUP BY site, hour"
    ),
    "stats_days": (
        "SELECT site, intDiv(ts, 86400000000) AS day,"
        " uniqCombinedIfState(visitor_id, visitor_id != '') AS visitors"
        " FROM events WHERE is_bot = 0{where} GROUP BY site, day"
    ),
    "stats_visit_parts": (
        "SELECT site, intDiv(ts, 3600000000) AS hour, visit_id, minState(ts) AS start,"
        " maxState(ts) AS end, sumState(toUInt64(name = 'pageview')) AS pageviews,"
        " countState() AS events"
        " FROM events WHERE is_bot = 0 AND visit_id != ''{where} GROUP BY site, hour, visit_id"
    ),
}
MV_SELECTS = {name: sql.format(where="") for name, sql in _MV_SELECTS.items()}
VIEW_TABLES = tuple(MV_SELECTS)  # each has a view `<table>_mv` on `events`
# Every site with events: views created late (after `summaries=off`) missed inserts.
MARK_ALL_INCOMPLETE = (
    "INSERT INTO stats_sites (site, complete, version)"
    " SELECT DISTINCT site, 0, toUInt64(now()) * 1000000 FROM events"
)


def view_ddl(table: str) -> str:
    """The materialized view filling `table` (the text migration 0002 creates)."""
    return f"CREATE MATERIALIZED VIEW IF NOT EXISTS {table}_mv TO {table} AS {MV_SELECTS[table]}"


def mv_select(table: str, site_param: str = "site") -> str:
    """The view's SELECT restricted to one site (for the rebuild's INSERT ... SELECT)."""
    return _MV_SELECTS[table].format(where=f" AND site = %({site_param})s")


def migration_statements(m: Migration) -> list[str]:
    """`m`'s statements with each `{view table}` placeholder replaced by its SELECT
    (by name, not str.format: DEFAULT '{}' is SQL)."""
    out = []
    for stmt in m.statements:
        for table, select in MV_SELECTS.items():
            stmt = stmt.replace("{" + table + "}", select)
        out.append(stmt)
    return out
