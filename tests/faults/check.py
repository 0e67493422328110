"""What a fault left behind: the stored ids and the stats, against what the client was told.

The ids are read with each database's own driver, not through the store
under test, and every row is counted: a duplicate row (the same event
stored twice) shows as `rows > stored`. The stats are read the way a user
reads them (the HTTP stats API of the running server, or the stats engine
for ClickHouse, whose events no `serve` reads in these layouts), so a
duplicate that reached the summaries shows as too many page views.
"""

from __future__ import annotations

import json
import sqlite3
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from tests.faults.load import Loader

__all__ = ["Outcome", "outcome", "stats_in_process", "stats_over_http", "stored_ids"]


def stored_ids(db_url: str, prefix: str) -> list[str]:
    """Every stored row's id that starts with `prefix` (one entry per row)."""
    like = prefix + "%"
    if db_url.startswith("sqlite:///"):
        conn = sqlite3.connect(db_url.removeprefix("sqlite:///"), timeout=30)
        try:
            rows = conn.execute("SELECT id FROM events WHERE id LIKE ?", (like,)).fetchall()
        finally:
            conn.close()
        return [r[0] for r in rows]
    if db_url.startswith(("postgresql://", "postgres://")):
        import psycopg
        from psycopg import sql

        from footfall.stores.postgres import split_url

        conninfo, schema, _ = split_url(db_url)
        table = sql.Identifier(schema, "events") if schema else sql.Identifier("events")
        with psycopg.connect(conninfo, connect_timeout=10) as pg:
            cur = pg.execute(sql.SQL("SELECT id FROM {} WHERE id LIKE %s").format(table), (like,))
            return [r[0] for r in cur.fetchall()]
    if db_url.startswith("clickhouse://"):
        from clickhouse_driver import Client

        from footfall.stores.clickhouse import split_url as ch_split

        driver_url, _, _ = ch_split(db_url)
        client = Client.from_url(driver_url)
        try:
            rows = client.execute("SELECT id FROM events WHERE id LIKE %(p)s", {"p": like})
        finally:
            client.disconnect()
        return [r[0] for r in rows]
    raise ValueError(f"no id reader for {db_url.split(':', 1)[0]}")


def _date_range(stamps: list[float]) -> str:
    days = [datetime.fromtimestamp(t, timezone.utc).date() for t in stamps]
    lo, hi = min(days) - timedelta(days=1), max(days) + timedelta(days=1)
    return f"{lo.isoformat()},{hi.isoformat()}"


def stats_over_http(url: str, token: str, site: str, stamps: list[float]) -> dict[str, int]:
    """Page views and visitors from `GET /api/v1/stats/aggregate` of a running server."""
    query = urllib.parse.urlencode(
        {"site_id": site, "period": "custom", "date": _date_range(stamps)}
        | {"metrics": "pageviews,visitors,visits"}
    )
    request = urllib.request.Request(
        f"{url}/api/v1/stats/aggregate?{query}", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        results = json.loads(response.read())["results"]
    return {k: int(v["value"]) for k, v in results.items()}


def stats_in_process(db_url: str, site: str, stamps: list[float]) -> dict[str, int]:
    """The same figures from the stats engine over a store with no server in front."""
    from footfall.stats.engine import aggregate
    from footfall.stats.model import build_query
    from footfall.stores import connect

    store = connect(db_url)
    try:
        q = build_query(
            site, period="custom", date=_date_range(stamps), metrics="pageviews,visitors,visits"
        )
        return {k: int(v) for k, v in aggregate(store, q).items()}
    finally:
        store.close()


@dataclass
class Outcome:
    """Accepted vs stored after one fault, and the stats a user would read."""

    fault: str
    accepted: int
    stored: int  # distinct accepted-run ids in the store
    rows: int  # rows holding them: rows > stored means an event was stored twice
    uncertain: int  # sent, never answered (may or may not be stored)
    refused: int  # answered 503/429, sent again later
    pageviews: int
    visitors: int
    # Each visitor's page views fall within minutes: one visit each. A batch
    # being enriched when the store fails waits for it (docs/guarantees.md), so
    # an outage neither drops visit ids nor splits a visit.
    visits: int
    expected_visitors: int
    missing: list[str] = field(default_factory=list)  # accepted, not stored
    unexpected: list[str] = field(default_factory=list)  # stored, never accepted
    doubled: list[str] = field(default_factory=list)  # stored more than once
    client_errors: list[str] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)

    def problems(self) -> list[str]:
        """Every broken promise, worded for a test failure (empty when all is well)."""
        out: list[str] = []
        if self.missing:
            out.append(f"{len(self.missing)} accepted events not stored, e.g. {self.missing[:3]}")
        if self.unexpected:
            out.append(
                f"{len(self.unexpected)} stored events never accepted: {self.unexpected[:3]}"
            )
        if self.doubled:
            out.append(f"{len(self.doubled)} events stored more than once: {self.doubled[:3]}")
        if self.pageviews != self.stored:
            out.append(f"stats count {self.pageviews} page views for {self.stored} stored events")
        if self.visitors != self.expected_visitors:
            out.append(f"stats count {self.visitors} visitors, expected {self.expected_visitors}")
        if self.visits != self.expected_visitors:
            out.append(f"stats count {self.visits} visits, expected {self.expected_visitors}")
        out += [f"client: {e}" for e in self.client_errors[:5]]
        return out


def outcome(
    fault: str, loader: Loader, ids: list[str], stats: dict[str, int], **notes: Any
) -> Outcome:
    """Compare what `loader` was told with the stored `ids` and the `stats`."""
    rows = Counter(ids)
    accepted = set(loader.accepted)
    maybe = set(loader.uncertain)
    stored = set(rows)
    return Outcome(
        fault=fault,
        accepted=len(accepted),
        stored=len(stored),
        rows=len(ids),
        uncertain=len(maybe),
        refused=loader.refused,
        pageviews=stats.get("pageviews", -1),
        visitors=stats.get("visitors", -1),
        visits=stats.get("visits", -1),
        expected_visitors=len({loader.visitor_of[i] for i in stored if i in loader.visitor_of}),
        missing=sorted(accepted - stored),
        unexpected=sorted(stored - accepted - maybe),
        doubled=sorted(i for i, n in rows.items() if n > 1),
        client_errors=list(loader.errors),
        notes=notes,
    )
