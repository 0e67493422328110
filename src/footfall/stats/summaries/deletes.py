"""What the summaries do when raw events are deleted (the stores' delete hooks).

A summary cannot forget a visitor (HLL sketches only add), so the sites losing
events are marked incomplete: their queries read raw events - correct,
slower - until `footfall stats rebuild`. The stores call these through
`footfall.stores.hooks` before they delete, in the delete's transaction
where they have one; `footfall.wiring` registers them.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from footfall.stats.summaries import clickhouse_compact
from footfall.stats.summaries.catchup import KEY, set_watermark
from footfall.stores.base import Store
from footfall.stores.ch_sql import SITES_OF
from footfall.stores.hooks import Deletion

__all__ = ["before_delete_clickhouse", "before_delete_postgres", "before_delete_sqlite"]


def before_delete_sqlite(store: Store, conn: sqlite3.Connection, deletion: Deletion) -> None:
    """`SQLiteStore`: runs in the delete's transaction, before it.

    The sites losing events get `complete = 0`. If the top rows go, SQLite
    would reuse their rowids, below the watermark; the watermark is lowered to
    the highest row that stays (every row above it is being deleted, so
    nothing is folded twice).
    """
    if not _has_state(conn):
        return
    where, params = deletion.where, deletion.params
    sites = [
        r[0]
        for r in conn.execute(f"SELECT DISTINCT site FROM events WHERE {where}", params)  # noqa: S608
    ]
    if not sites:
        return
    conn.executemany(
        "UPDATE stats_sites SET complete = 0, updated_at = ? WHERE site = ?",
        [(int(time.time()), s) for s in sites],
    )
    row = conn.execute("SELECT value FROM stats_state WHERE key = ?", (KEY,)).fetchone()
    mark = int(row[0]) if row else 0
    keep = conn.execute(
        f"SELECT rowid FROM events WHERE NOT ({where}) ORDER BY rowid DESC LIMIT 1",  # noqa: S608
        params,
    ).fetchone()
    top = int(keep[0]) if keep else 0
    if top < mark:
        set_watermark(conn, top)


def _has_state(conn: sqlite3.Connection) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'stats_state'"
    ).fetchone()
    return row is not None


def before_delete_postgres(store: Store, cur: Any, deletion: Deletion) -> None:
    """`PostgresStore`: the sites losing events get `complete = 0`, in the delete's
    transaction. `seq` values are never reused, so the watermark stays where it is."""
    query = f"SELECT DISTINCT site FROM events WHERE {deletion.where}"  # noqa: S608 - fixed SQL
    found = cur.execute(query, deletion.params).fetchall()
    if found:
        cur.executemany(
            "UPDATE stats_sites SET complete = 0, updated_at = %s WHERE site = %s",
            [(int(time.time()), r[0]) for r in found],
        )


def before_delete_clickhouse(store: Store, conn: Any, deletion: Deletion) -> None:
    """`ClickHouseStore` (no transactions: before the mutation is sent).

    A purge by time removes whole old hours, which the summaries can still
    answer around (`clickhouse_compact.note_purge`); any other delete marks the
    sites it reaches incomplete.
    """
    if deletion.purge_before_us is not None:
        clickhouse_compact.note_purge(store, deletion.purge_before_us, deletion.site)
        return
    sites = store.query(SITES_OF.format(condition=deletion.where), deletion.params)
    clickhouse_compact.mark_incomplete(store, [r[0] for r in sites])
