"""The records of a store's meta side (sites, tokens, failed events) and the `Meta` protocol.

Every implementation (`meta_sql.SQLMeta`, a store's own `meta()`) builds and
returns these; callers find them through `footfall.stores.meta`, whose
docstring is the contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

__all__ = ["FailedEvent", "Meta", "Site", "Token"]


@dataclass(frozen=True)
class Site:
    """A site the collector accepts events for."""

    domain: str
    timezone: str = "UTC"
    public: bool = False
    created_at: datetime | None = None


@dataclass(frozen=True)
class Token:
    """An API token as stored (the secret itself is never stored)."""

    id: int
    name: str
    site: str  # "" = any site
    prefix: str  # first characters of the secret, to recognise it in lists
    created_at: datetime | None = None
    revoked: bool = False

    def allows(self, site: str) -> bool:
        return not self.revoked and (not self.site or self.site == site)


@dataclass(frozen=True)
class FailedEvent:
    """An event kept aside because it failed validation, with why and what came in."""

    id: int
    ts: datetime
    reason: str
    payload: str  # the original input, as text (JSON or a query string)
    event: str = ""  # the footfall Event built from it, as JSON ("" if none)
    site: str = ""
    source: str = ""
    schema: str = ""
    attempts: int = 1
    status: str = "failed"
    # The id its event would be stored with, for erasure (footfall.collector.failed_privacy).
    visitor_id: str = ""


@runtime_checkable
class Meta(Protocol):
    """Sites, tokens and failed events of one store; `footfall.stores.meta` is the contract."""

    def add_site(self, site: Site) -> bool: ...
    def get_site(self, domain: str) -> Site | None: ...
    def list_sites(self) -> list[Site]: ...
    def update_site(
        self, domain: str, timezone: str | None = None, public: bool | None = None
    ) -> Site | None: ...
    def remove_site(self, domain: str) -> int | None: ...
    def add_token(self, name: str, site: str, token_hash: str, prefix: str) -> Token: ...
    def list_tokens(self) -> list[Token]: ...
    def active_tokens(self) -> dict[str, Token]: ...
    def revoke_token(self, token_id: int) -> bool: ...
    def add_failed(self, rows: list[FailedEvent]) -> int: ...
    def list_failed(
        self, status: str | None = "failed", limit: int = 100, site: str | None = None
    ) -> list[FailedEvent]: ...
    def set_failed_status(self, failed_id: int, status: str, reason: str | None = None) -> None: ...
    def purge_failed(self, before: datetime, site: str | None = None) -> int: ...
    def delete_failed_visitor(self, visitor_id: str, site: str | None = None) -> int: ...
