"""Sites, API tokens and failed events: the small "meta" side of a store.

The collector needs three things besides the events table: which sites it may
accept events for, which API tokens are valid, and somewhere to keep events
that failed schema validation (Snowplow's "bad rows"). They live in the same
database as the events, behind the `Meta` protocol below, so each store
backend implements it in its own dialect:

- SQLite and PostgreSQL: `footfall.stores.meta_sql.SQLMeta`, one set of
  statements for both (uses the store's `transaction()` and `query()`).
- Another backend provides either a `meta()` method on its Store returning a
  `Meta`, or a module `footfall.stores.meta_<dialect>` with a function
  `open_meta(store) -> Meta`. `open_meta` below tries those in that order.

Contract (tests/collector/test_meta.py runs it against SQLite):

- `add_site(site)` inserts a site; returns False (and changes nothing) when a
  site with that domain exists. Domains are stored as given (callers
  normalise with `normalize_domain`).
- `get_site(domain)` / `list_sites()` read them (list ordered by domain).
- `add_token(name, site, token_hash, prefix)` stores a token; only its hash is
  kept. `site == ""` means "every site". Returns the stored `Token`.
- `list_tokens()` lists tokens (revoked ones too), `active_tokens()` maps
  token_hash -> Token for the ones not revoked, `revoke_token(id)` revokes.
- `add_failed(rows)` appends failed events (ids are assigned by the store,
  the `id` given is ignored) and returns how many; `list_failed(status, limit,
  site)` reads them oldest first; `set_failed_status(id, status, reason)`
  updates one after a retry (`status` "failed" or "recovered"; attempts + 1).
- `purge_failed(before, site)` deletes failed events kept before `before`
  (retention, whatever their status); `delete_failed_visitor(visitor_id,
  site)` deletes those whose `visitor_id` is that visitor's (erasure). Both
  return how many went.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "FailedEvent",
    "Meta",
    "Site",
    "Token",
    "normalize_domain",
    "open_meta",
]


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
    """Sites, tokens and failed events of one store; see the module docstring."""

    def add_site(self, site: Site) -> bool: ...
    def get_site(self, domain: str) -> Site | None: ...
    def list_sites(self) -> list[Site]: ...
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


def normalize_domain(domain: str) -> str:
    """`https://WWW.Example.com/x` -> `www.example.com`: lower case, no scheme or path."""
    d = domain.strip().lower()
    if "://" in d:
        d = d.split("://", 1)[1]
    d = d.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    return d.rstrip(".")


def open_meta(store: Any) -> Meta:
    """The `Meta` for `store` (see the module docstring for how it is found)."""
    method = getattr(store, "meta", None)
    if callable(method):
        meta: Meta = method()
        return meta
    dialect = getattr(store, "dialect", "")
    if dialect in ("sqlite", "postgres"):
        from footfall.stores.meta_sql import SQLMeta

        return SQLMeta(store, "?" if dialect == "sqlite" else "%s")
    try:
        module = importlib.import_module(f"footfall.stores.meta_{dialect}")
    except ModuleNotFoundError as exc:
        raise NotImplementedError(f"no sites/tokens support for {dialect!r} stores yet") from exc
    found: Meta = module.open_meta(store)
    return found
