# ruff: noqa: S608 - SQL from the fixed column lists below; values are bound
"""Imported aggregates: daily figures from another tool, stored beside the events.

Plausible's CSV export and Google Analytics 4 reports hold no events, only
per-day counts by one dimension (visitors by source, page views by page...).
They cannot become events without inventing visits, so they are kept as they
are, in `imported_stats` (one row per site, import, kind, day and dimension
values) with one `imported_imports` row per import naming its source and the
days it covers; the stats add them to footfall's own figures
(`footfall.stats.imported`).

An import's id is a hash of the site, the source and the data, so importing
the same file again replaces its rows instead of adding them twice: SQLite
and PostgreSQL delete the import's rows and insert the new ones in one
transaction; ClickHouse inserts the same rows again, and its
ReplacingMergeTree and the stats' reads keep each row key once.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from footfall.errors import FootfallError
from footfall.stores.base import Store
from footfall.stores.sqltext import to_paramstyle

__all__ = [
    "DIMENSIONS",
    "KINDS",
    "METRICS",
    "AggregateReport",
    "AggregateRow",
    "BadRow",
    "ImportSummary",
    "delete_imported",
    "import_id_of",
    "parse_count",
    "parse_day",
    "store_aggregates",
]

# The dimension columns of `imported_stats`, named as the stats' properties
# read them (`path`/`host`/`name`: event:page, event:hostname, event:name).
DIMENSIONS = (
    "path",
    "host",
    "name",
    "entry_page",
    "exit_page",
    "source",
    "referrer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "country",
    "region",
    "city",
    "device",
    "browser",
    "browser_version",
    "os",
    "os_version",
)
METRICS = ("visitors", "pageviews", "events", "visits", "bounces", "visit_duration")
# Each kind of row and the dimensions it may fill (the others stay '').
KINDS: dict[str, tuple[str, ...]] = {
    "visitors": (),
    "sources": (
        "source",
        "referrer",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_content",
        "utm_term",
    ),
    "pages": ("path", "host"),
    "entry_pages": ("entry_page",),
    "exit_pages": ("exit_page",),
    "locations": ("country", "region", "city"),
    "devices": ("device",),
    "browsers": ("browser", "browser_version"),
    "operating_systems": ("os", "os_version"),
    "custom_events": ("name", "path"),
}
_BATCH = 5_000
BAD_SAMPLES = 5  # bad rows kept for the report
_COLUMNS = ("site", "import_id", "kind", "day", "row_key", *DIMENSIONS, *METRICS)
_IMPORT_COLUMNS = (
    "site",
    "import_id",
    "source",
    "label",
    "first_day",
    "last_day",
    "row_count",
    "imported_at",
)


@dataclass(frozen=True)
class AggregateRow:
    """One day's figures for one combination of dimension values."""

    kind: str
    day: date
    dims: dict[str, str] = field(default_factory=dict)
    visitors: int = 0
    pageviews: int = 0
    events: int = 0
    visits: int = 0
    bounces: int = 0
    visit_duration: int = 0  # seconds, summed over the visits

    def __post_init__(self) -> None:
        allowed = KINDS.get(self.kind)
        if allowed is None:
            raise ValueError(f"unknown kind {self.kind!r}")
        extra = set(self.dims) - set(allowed)
        if extra:
            raise ValueError(f"{self.kind} rows have no {sorted(extra)}")

    def key(self) -> str:
        """A hash of the kind and the dimension values: the row's identity within a day."""
        text = "\x1f".join([self.kind, *(self.dims.get(d, "") for d in KINDS[self.kind])])
        return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()

    def values(self, site: str, import_id: str) -> tuple[Any, ...]:
        return (
            site,
            import_id,
            self.kind,
            self.day.isoformat(),
            self.key(),
            *(self.dims.get(d, "") for d in DIMENSIONS),
            *(int(getattr(self, m)) for m in METRICS),
        )


@dataclass(frozen=True)
class ImportSummary:
    """What was stored: the import's id, its rows and the days they cover."""

    import_id: str
    rows: int
    first: date | None
    last: date | None
    replaced: int  # rows of an earlier import of the same data, now replaced


class BadRow(FootfallError, ValueError):
    """A CSV row that cannot be read as figures for a day."""


@dataclass
class AggregateReport:
    """What an aggregate import read, stored and could not read."""

    files: int = 0
    rows: int = 0
    bad: int = 0
    bad_samples: list[tuple[str, int, str]] = field(default_factory=list)  # (file, line, why)
    kinds: Counter[str] = field(default_factory=Counter)
    skipped_files: list[str] = field(default_factory=list)
    summary: ImportSummary | None = None

    def bad_row(self, name: str, line: int, reason: str) -> None:
        self.bad += 1
        if len(self.bad_samples) < BAD_SAMPLES:
            self.bad_samples.append((name, line, reason))


def parse_day(text: str | None) -> date:
    """A `YYYY-MM-DD` (or GA4's `YYYYMMDD`) day."""
    value = (text or "").strip()
    if re.fullmatch(r"\d{8}", value):
        value = f"{value[:4]}-{value[4:6]}-{value[6:]}"
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise BadRow(f"date {value[:20]!r} is not a day") from None


def parse_count(text: str | None, column: str) -> int:
    """A non-negative count ("" is 0; "1,234" and "12.0" read as numbers)."""
    value = (text or "").strip().replace(",", "")
    if not value:
        return 0
    try:
        number = float(value)
    except ValueError:
        raise BadRow(f"{column} {value[:20]!r} is not a number") from None
    if number < 0 or number != number or number > 2**53:
        raise BadRow(f"{column} {value[:20]!r} is out of range")
    return round(number)


def import_id_of(site: str, source: str, chunks: Iterable[bytes]) -> str:
    """The id of an import: the same site, source and data always give the same id."""
    h = hashlib.sha256(f"{source}\n{site}\n".encode())
    for chunk in chunks:
        h.update(hashlib.sha256(chunk).digest())
    return h.hexdigest()[:24]


def _merged(rows: Iterable[AggregateRow]) -> list[AggregateRow]:
    """Rows by (kind, day, key), the figures of repeated keys added (an export may list a
    value twice when a column footfall does not keep told the two apart)."""
    out: dict[tuple[str, str, str], AggregateRow] = {}
    for row in rows:
        k = (row.kind, row.day.isoformat(), row.key())
        seen = out.get(k)
        if seen is not None:
            row = AggregateRow(
                row.kind,
                row.day,
                row.dims,
                **{m: getattr(seen, m) + getattr(row, m) for m in METRICS},
            )
        out[k] = row
    return list(out.values())


def store_aggregates(
    store: Store, site: str, source: str, import_id: str, rows: Sequence[AggregateRow], label: str
) -> ImportSummary:
    """Store `rows` as import `import_id` of `site`, replacing an earlier copy of it."""
    merged = _merged(rows)
    days = [r.day for r in merged]
    first, last = (min(days), max(days)) if days else (None, None)
    values = [r.values(site, import_id) for r in merged]
    record = (
        site,
        import_id,
        source,
        label[:200],
        first.isoformat() if first else "",
        last.isoformat() if last else "",
        len(values),
        int(datetime.now(timezone.utc).timestamp() * 1_000_000),
    )
    if store.dialect == "clickhouse":
        replaced = _count(store, site, import_id)
        client: Any = getattr(store, "client")  # noqa: B009 - ClickHouseStore's own driver
        for i in range(0, len(values), _BATCH):
            client.execute(
                f"INSERT INTO imported_stats ({', '.join(_COLUMNS)}) VALUES",
                values[i : i + _BATCH],
            )
        client.execute(
            f"INSERT INTO imported_imports ({', '.join(_IMPORT_COLUMNS)}) VALUES", [record]
        )
        return ImportSummary(import_id, len(values), first, last, replaced)
    style = store.paramstyle
    insert = to_paramstyle(
        f"INSERT INTO imported_stats ({', '.join(_COLUMNS)})"
        f" VALUES ({', '.join('?' for _ in _COLUMNS)})",
        style,
    )
    with store.transaction() as conn:
        cur = conn.cursor()
        count = "SELECT COUNT(*) FROM imported_stats WHERE site = ? AND import_id = ?"
        cur.execute(to_paramstyle(count, style), (site, import_id))
        replaced = int(cur.fetchone()[0])
        for table in ("imported_stats", "imported_imports"):
            cur.execute(
                to_paramstyle(f"DELETE FROM {table} WHERE site = ? AND import_id = ?", style),
                (site, import_id),
            )
        for i in range(0, len(values), _BATCH):
            cur.executemany(insert, values[i : i + _BATCH])
        cur.execute(
            to_paramstyle(
                f"INSERT INTO imported_imports ({', '.join(_IMPORT_COLUMNS)})"
                f" VALUES ({', '.join('?' for _ in _IMPORT_COLUMNS)})",
                style,
            ),
            record,
        )
    return ImportSummary(import_id, len(values), first, last, replaced)


def delete_imported(store: Store, site: str) -> int:
    """Delete every import of `site` (its events stay); return how many imports that was."""
    tables = ("imported_stats", "imported_imports")
    if store.dialect == "clickhouse":
        found = store.query(
            "SELECT COUNT(DISTINCT import_id) FROM imported_imports WHERE site = %(p1)s", [site]
        )
        delete_site_rows: Any = getattr(store, "delete_site_rows")  # noqa: B009 - ClickHouse's
        delete_site_rows(tables, site)  # a mutation per table (per shard on a cluster)
        return int(found[0][0]) if found else 0
    style = store.paramstyle
    with store.transaction() as conn:
        cur = conn.cursor()
        cur.execute(
            to_paramstyle("SELECT COUNT(*) FROM imported_imports WHERE site = ?", style), (site,)
        )
        n = int(cur.fetchone()[0])
        for table in tables:
            cur.execute(to_paramstyle(f"DELETE FROM {table} WHERE site = ?", style), (site,))
    return n


def _count(store: Store, site: str, import_id: str) -> int:
    rows = store.query(
        "SELECT COUNT(*) FROM (SELECT DISTINCT kind, day, row_key FROM imported_stats"
        " WHERE site = %(p1)s AND import_id = %(p2)s)",
        [site, import_id],
    )
    return int(rows[0][0]) if rows else 0
