"""The Store contract every backend (SQLite, PostgreSQL, ClickHouse) fulfils.

One contract test suite (tests/stores/) runs against every implementation, so
this docstring and those tests are the specification. Writes are idempotent on
`Event.id`; times are UTC; reads page newest first like Flask-Track-Usage's
`get_usage`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from footfall.event import Event

__all__ = ["EventFilter", "Store", "page_window"]


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
    """Where events rest and are read from."""

    dialect: ClassVar[str]
    url: str
    # Events per `write` this store handles best, when that is well above the
    # delivery worker's default (1,000): a tracker writing only to such
    # stores batches this many. None: any size suits it.
    preferred_batch_size: ClassVar[int | None] = None

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

    @abstractmethod
    def purge(self, before: datetime, site: str | None = None) -> int:
        """Delete events older than `before`; return how many."""

    @abstractmethod
    def delete_visitor(self, visitor_id: str, site: str | None = None) -> int:
        """Delete every event of one visitor (a GDPR erasure request)."""

    def is_writable(self) -> bool:
        """Whether a write would succeed now (for /health)."""
        return True

    def close(self) -> None:  # noqa: B027 - optional hook, not abstract
        """Release connections."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
