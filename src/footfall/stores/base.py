"""The Store contract every backend (SQLite, PostgreSQL, ClickHouse) fulfils.

One contract test suite (tests/stores/) runs against every implementation, so
this docstring and those tests are the specification. Writes are idempotent on
`Event.id`; times are UTC; reads page newest first like Flask-Track-Usage's
`get_usage`.

What a store can do beyond the abstract methods is declared on `Store` too,
with the defaults of a store that can do none of it, and overridden by each
backend: callers read `store.dialect`, `store.summaries`, ... plainly instead
of probing for attributes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from footfall.errors import ConfigurationError
from footfall.event import Event
from footfall.stores import hooks
from footfall.stores.rows import event_row

if TYPE_CHECKING:
    from footfall.processors.state import ProcessorState
    from footfall.stores.meta_records import Meta

__all__ = ["SUMMARIES_FOLDED", "SUMMARIES_VIEWS", "EventFilter", "Store", "page_window"]

# How a store keeps the stats summaries (`Store.summaries`):
SUMMARIES_FOLDED = "folded"  # tables a catch-up folds new events into (SQLite, PostgreSQL)
SUMMARIES_VIEWS = "views"  # the database folds each insert itself (ClickHouse's views)

T = TypeVar("T")


@dataclass(frozen=True)
class EventFilter:
    """Equality filters for reading raw events back (not the stats filters)."""

    site: str | None = None
    name: str | None = None
    source: str | None = None
    visitor_id: str | None = None
    user_id: str | None = None

    def items(self) -> list[tuple[str, str]]:
        return [(k, v) for k, v in vars(self).items() if v is not None]


def page_window(limit: int, page: int) -> tuple[int, int]:
    """`get_usage`'s (limit, offset), pages from 1.

    The limit asked for is the limit used, however large: a caller written for
    Flask-Track-Usage's `get_usage(limit=N)` expects N rows back, and a silent
    cap would look like missing data. Reading a large range in pages keeps
    memory flat (see docs/integrations.md).
    """
    limit, page = int(limit), int(page)
    if limit < 1:
        raise ValueError(f"get_usage: limit must be at least 1, not {limit}")
    if page < 1:
        raise ValueError(f"get_usage: page counts from 1, not {page}")
    return limit, (page - 1) * limit


class Store(ABC):
    """Where events rest and are read from, and what else the store can do."""

    # The SQL it speaks: "sqlite", "postgres", "clickhouse" ("": none).
    dialect: ClassVar[str] = ""
    # The placeholders its driver reads (PEP 249's names): "qmark" (`?`), "format"
    # (`%s`), "pyformat" (`%(p1)s`); `footfall.stores.sqltext` converts `?` SQL to it.
    paramstyle: ClassVar[str] = ""
    url: str
    # Events per `write` this store handles best, when that is well above the
    # delivery worker's default (1,000): a tracker writing only to such
    # stores batches this many. None: any size suits it.
    preferred_batch_size: ClassVar[int | None] = None
    # Whether one store object may be used by several threads at once (else
    # background work on it runs inline).
    threadsafe: ClassVar[bool] = True
    # Whether it keeps sites, tokens and failed events itself (`meta()`).
    holds_meta: ClassVar[bool] = False
    # The store that keeps this one's metadata when that is another database
    # (`--meta`, `attach_meta`); None: this store keeps its own, if it can.
    meta_store: Store | None = None
    # How it keeps the stats summaries: SUMMARIES_FOLDED, SUMMARIES_VIEWS, or ""
    # (none: the stats read raw events). A store's URL may change it.
    summaries: str = ""
    # Days after which the store itself drops events (a TTL), or None.
    retention_days: int | None = None
    # What its database driver raises when the database refuses or cannot be
    # reached (a read-only file, a hot standby, a dropped connection).
    driver_errors: ClassVar[tuple[type[Exception], ...]] = ()

    @abstractmethod
    def migrate(self) -> list[str]:
        """Apply pending schema migrations; return the names applied."""

    @abstractmethod
    def write(self, events: Sequence[Event]) -> int:
        """Store a batch in one transaction; return how many were new.

        An event whose id is already stored is skipped, so a retried batch
        never doubles data.
        """

    @abstractmethod
    def get_usage(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 500,
        page: int = 1,
        filters: EventFilter | None = None,
    ) -> list[Event]:
        """Events with start <= ts < end, newest first, `limit` per 1-based `page`.

        Every `limit` >= 1 is honoured; `limit` or `page` below 1 raises ValueError.
        """

    @abstractmethod
    def count(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        filters: EventFilter | None = None,
    ) -> int:
        """How many events `get_usage` could page through."""

    def iter_events(
        self,
        site: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        chunk: int = 10_000,
    ) -> Iterator[list[Event]]:
        """Every event of `site` (None: every site) with start <= ts < end, in lists
        of at most `chunk`, ordered by (site, ts, id), each event once.

        One query per chunk, each after the last event of the one before
        (`footfall.stores.keyset`), so reading ten million events holds one
        chunk at a time. Events written meanwhile may or may not be seen.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot read its events in chunks")

    def iter_rows(
        self,
        site: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        chunk: int = 10_000,
    ) -> Iterator[list[Sequence[Any]]]:
        """`iter_events`, as rows: one value per `footfall.columns.EVENT_COLUMNS`,
        `ts` in UTC microseconds, `is_bot` 0 or 1, `props` and `context` a JSON
        object's text or a dict.

        What an export reads: a SQL store gives its driver's rows as they
        come, with no `Event` built for each (most of an export's time when
        it did). Here, for a store without its own: every event made a row.
        """
        for events in self.iter_events(site, start, end, chunk):
            yield [event_row(e) for e in events]

    @abstractmethod
    def purge(self, before: datetime, site: str | None = None) -> int:
        """Delete events older than `before`; return how many."""

    @abstractmethod
    def delete_visitor(self, visitor_id: str, site: str | None = None) -> int:
        """Delete every event of one visitor (a GDPR erasure request)."""

    def is_writable(self) -> bool:
        """Whether a write would succeed now (for /health)."""
        return True

    @property
    def location(self) -> str:
        """Which data this object reads: equal for two objects over the same
        database, different otherwise (what in-process caches are keyed by)."""
        return self.url

    def query(self, query: Any, params: Any = ()) -> list[Any]:
        """Run a read query in the store's own SQL and placeholders; fetch all rows."""
        raise NotImplementedError(f"{type(self).__name__} runs no SQL queries")

    def transaction(self) -> AbstractContextManager[Any]:
        """A DB-API connection in a write transaction, committed when the block ends and
        rolled back if it raises (a store that `holds_meta` has one: its sites, tokens
        and dashboard users are written in it)."""
        raise NotImplementedError(f"{type(self).__name__} has no transactions")

    def serial_transaction(self, fn: Callable[[Any], T]) -> T:
        """Run `fn(conn)` in a write transaction that no other serial transaction on
        this database overlaps, and return what it returns (a store keeping
        SUMMARIES_FOLDED has one: the catch-up folds in it)."""
        raise NotImplementedError(f"{type(self).__name__} has no serial transactions")

    def attach_meta(self, meta: Store) -> None:
        """Keep sites, tokens, dashboard users, failed events and processor state in
        `meta` instead of here: a ClickHouse event store keeps events only (the
        metadata are small rows written one at a time, which it does badly), so
        its metadata live in PostgreSQL or SQLite. Closing this store closes `meta`.
        """
        if not meta.holds_meta:
            raise ConfigurationError(f"{meta!r} cannot hold sites, tokens and users")
        self.meta_store = meta

    def meta_home(self) -> Store:
        """The store its metadata live in: the attached one, else itself.

        Callers of metadata (`open_meta`, `state_for`, the dashboard's users)
        go through this, so one object carries both halves to every route.
        """
        return self.meta_store if self.meta_store is not None else self

    def meta(self) -> Meta:
        """Its sites, tokens and failed events (where `holds_meta`)."""
        raise NotImplementedError(f"no sites/tokens support for {self.dialect!r} stores yet")

    def processor_state(self) -> ProcessorState | None:
        """The visitor and visits processors' state shared by every process using this
        store, or None: they keep it in memory, per process."""
        return None

    def flush_buffer(self) -> None:  # noqa: B027 - optional hook, not abstract
        """Write what the store holds in memory through to its tables now (ClickHouse's
        opt-in Buffer table); a store that buffers nothing has nothing to do."""

    def stats_dialect(self) -> Any:
        """The stats engine's SQL dialect for this store (`footfall.stores.hooks`)."""
        return hooks.stats_dialect(self)

    def close(self) -> None:
        """Release connections (a backend's own `close` ends by calling this one),
        and close the attached metadata store."""
        meta, self.meta_store = self.meta_store, None
        if meta is not None:
            meta.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
