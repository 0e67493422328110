"""The ClickHouse store's SQL, kept in one place so tests can run it through chDB.

Every statement here must parse on Debian's ClickHouse 18.16 and on current
ClickHouse (tests/stores/test_clickhouse_sql.py runs them through chDB).
Parameters use clickhouse-driver's `%(name)s` style and are escaped by the
driver; column names come only from fixed tuples. The WHERE clauses of the
raw-event reads and deletes come from `footfall.stores.sqltext`, as on the
other stores.
"""

from __future__ import annotations

from footfall.stores.rows import COLUMNS

__all__ = [
    "ANY_IN_RANGE",
    "BUFFER",
    "BUFFERED",
    "COUNT",
    "EXISTING_IDS",
    "INSERT",
    "SELECT_PAGE",
    "SITES_OF",
    "buffer_table_sql",
    "delete_sql",
    "insert_sql",
    "retention_ttl_sql",
]

_COLS = ", ".join(COLUMNS)
INSERT = f"INSERT INTO events ({_COLS}) VALUES"
SELECT_PAGE = (
    f"SELECT {_COLS} FROM events{{where}} "  # noqa: S608 - fixed names; where from sqltext
    "ORDER BY ts DESC, id DESC LIMIT %(limit)s OFFSET %(offset)s"
)
COUNT = "SELECT count() FROM events{where}"
SITES_OF = "SELECT DISTINCT site FROM events WHERE {condition}"  # the sites a delete reaches
# Which of a batch's ids (sent as the external table `_batch`) are stored
# already. PREWHERE on ts reads the id column only in granules whose
# timestamps fall in the batch's range; site and the partition min/max on ts
# prune the rest through the sort key.
EXISTING_IDS = (
    "SELECT id FROM events "
    "PREWHERE ts >= %(lo)s AND ts <= %(hi)s "
    "WHERE site IN %(sites)s AND id IN _batch"
)
# Asked first: whether any event of the batch's sites is stored in its ts
# range at all. New, time-ordered traffic (the usual batch) has none, and
# then the ids need not be sent: for 50k events that is ~2 MB and ~1 us per
# event of client time saved. A duplicate shares its original's ts and site,
# so an empty range proves there is none.
ANY_IN_RANGE = (
    "SELECT count() FROM events PREWHERE ts >= %(lo)s AND ts <= %(hi)s WHERE site IN %(sites)s"
)


# The opt-in Buffer table (`?buffer_seconds=N`): inserts land in memory and
# reach `events` as one part per flush instead of one per batch. Reads go
# through it to see both; a Buffer table has no PREWHERE, so the id check
# filters with WHERE (measured ~12-22 ms per 10k ids vs ~5 ms with PREWHERE
# on `events` alone: the price of seeing buffered rows).
BUFFER = "events_buffer"
BUFFERED = {
    "COUNT": COUNT.replace("FROM events", f"FROM {BUFFER}"),
    "SELECT_PAGE": SELECT_PAGE.replace("FROM events", f"FROM {BUFFER}"),
    "EXISTING_IDS": (
        f"SELECT id FROM {BUFFER} "  # noqa: S608 - fixed names
        "WHERE ts >= %(lo)s AND ts <= %(hi)s AND site IN %(sites)s AND id IN _batch"
    ),
    "ANY_IN_RANGE": (
        f"SELECT count() FROM {BUFFER} "  # noqa: S608 - fixed names
        "WHERE ts >= %(lo)s AND ts <= %(hi)s AND site IN %(sites)s"
    ),
}
# Flush when a full second has passed and 100k rows / 10 MB are held, or
# when `seconds` have passed, or at 1M rows / 200 MB, whichever comes first.
_BUFFER_LIMITS = "1, {seconds}, 100000, 1000000, 10000000, 200000000"


def buffer_table_sql(database: str, seconds: int) -> str:
    """DDL of the Buffer table in front of `events` (database name allow-listed by the caller)."""
    limits = _BUFFER_LIMITS.format(seconds=int(seconds))
    return (
        f"CREATE TABLE IF NOT EXISTS {BUFFER} AS events "
        f"ENGINE = Buffer({database}, events, 1, {limits})"
    )


def insert_sql(names: list[str], table: str = "events") -> str:
    """INSERT naming only `names` (a subset of COLUMNS); the rest take defaults."""
    unknown = set(names) - set(COLUMNS)
    if unknown:
        raise ValueError(f"not event columns: {sorted(unknown)}")
    if table not in ("events", BUFFER):
        raise ValueError(f"not an events table: {table!r}")
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES"


_MUTABLE = ("events", "events_local")  # a cluster's mutations go to each shard's table


def delete_sql(condition: str, table: str = "events") -> str:
    """A mutation deleting the rows `condition` selects (never without one)."""
    if not condition.strip():
        raise ValueError("refusing to delete every event without a condition")
    if table not in _MUTABLE:
        raise ValueError(f"not an events table: {table!r}")
    return f"ALTER TABLE {table} DELETE WHERE {condition}"


def retention_ttl_sql(days: int, table: str = "events") -> str:
    """Table TTL (ClickHouse >= 19.6): rows older than `days` vanish on merge."""
    if table not in _MUTABLE:
        raise ValueError(f"not an events table: {table!r}")
    return (
        f"ALTER TABLE {table} MODIFY TTL "
        f"toDateTime(intDiv(ts, 1000000), 'UTC') + INTERVAL {int(days)} DAY"
    )
