"""Sites, API tokens and failed events: the small "meta" side of a store.

The collector needs three things besides the events table: which sites it may
accept events for, which API tokens are valid, and somewhere to keep events
that failed schema validation (Snowplow's "bad rows"). They live in the same
database as the events, behind the `Meta` protocol below, so each store
backend implements it in its own dialect:

- SQLite and PostgreSQL: `footfall.stores.meta_sql.SQLMeta`, one set of
  statements for both (uses the store's `transaction()` and `query()`).
- A store declares that it holds them (`Store.holds_meta`) and returns its
  `Meta` from `Store.meta()`. A store without has no sites or tokens:
  `open_meta` raises `NotImplementedError`. ClickHouse keeps them in a
  separate metadata store: `connect(url, meta=...)` attaches it
  (`Store.attach_meta`) and `open_meta` reads `store.meta_home()`.

The records and the protocol live in `meta_records.py`, which every
implementation imports; this module is where callers find them.

Contract (tests/stores/test_meta_state.py and tests/collector/ run it):

- `add_site(site)` inserts a site; returns False (and changes nothing) when a
  site with that domain exists. Domains are stored as given (callers
  normalise with `normalize_domain`).
- `get_site(domain)` / `list_sites()` read them (list ordered by domain).
- `update_site(domain, timezone=None, public=None)` changes what is given
  and returns the site as stored now, or None when there is no such site.
- `remove_site(domain)` deletes the site and revokes the tokens scoped to it
  (a site added again later must not bring old tokens back to life); returns
  how many tokens it revoked, or None when there was no such site. Its events
  and failed events are the caller's to delete.
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

import hashlib
import secrets
from typing import TYPE_CHECKING

from footfall.stores.meta_records import FailedEvent, Meta, Site, Token

if TYPE_CHECKING:
    from footfall.stores.base import Store

__all__ = [
    "TOKEN_PREFIX",
    "FailedEvent",
    "Meta",
    "Site",
    "Token",
    "hash_token",
    "new_token",
    "normalize_domain",
    "open_meta",
]

TOKEN_PREFIX = "ff_"  # noqa: S105 - a label, not a secret


def normalize_domain(domain: str) -> str:
    """`https://WWW.Example.com/x` -> `www.example.com`: lower case, no scheme or path."""
    d = domain.strip().lower()
    if "://" in d:
        d = d.split("://", 1)[1]
    d = d.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    return d.rstrip(".")


def open_meta(store: Store) -> Meta:
    """The `Meta` of `store` (kept in its `meta_home()`: the `--meta` store when one
    is attached); NotImplementedError where there is none."""
    home = store.meta_home()
    if not home.holds_meta:
        raise NotImplementedError(
            f"no sites/tokens support for {home.dialect!r} stores: give a metadata store (--meta)"
        )
    return home.meta()


def hash_token(secret: str) -> str:
    """sha256 of the secret: enough for a 256-bit random secret (no need for a slow KDF)."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def new_token() -> tuple[str, str, str]:
    """A new secret, its hash and the short prefix shown in lists."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return secret, hash_token(secret), secret[: len(TOKEN_PREFIX) + 6]
