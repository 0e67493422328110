"""Sites, API tokens, failed events and saved goals: the small "meta" side of a store.

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
  (a site added again later must not bring old tokens back to life) and
  deletes its saved goals; returns how many tokens it revoked, or None when
  there was no such site. Its events and failed events are the caller's to
  delete.
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
- `add_annotation(site, day, text)` keeps a note on a local day of a site's
  chart and returns the stored `Annotation` (its id assigned by the store);
  the text is trimmed, and `ValidationError` refuses empty text, more than
  `MAX_ANNOTATION_TEXT` characters or control characters. The text is kept
  as given otherwise (callers escape it where they show it).
  `list_annotations(site, start, end)` reads those of days start..end
  (inclusive) by day, then id; `remove_annotation(site, id)` deletes one of
  that site (False when there is none: another site's id is not found).
- `add_funnel(site, name, steps)` saves a named funnel (2 to
  `MAX_FUNNEL_STEPS` steps, each a step expression the caller has checked
  with `footfall.stats.funnel.parse_steps`) and returns the `SavedFunnel`,
  or None (changing nothing) when the site has a funnel of that name;
  `ValidationError` past the limits. `list_funnels(site)` reads them by name,
  `get_funnel(site, name)` one (or None), `remove_funnel(site, name)` deletes
  one (False when there is none).
- `remove_site` deletes the site's annotations and saved funnels too
  (tests/stores/test_meta_dashboard.py runs these on SQLite and PostgreSQL).
- `add_alert(rule)` stores an `AlertRule` and returns it with its id;
  `list_alerts(site=None)` reads rules by id (one site's, or all);
  `remove_alert(id)` deletes a rule and its states (False when there is none).
  `alert_states(rule_id)` reads where each subject's episode stands (by
  subject). `alert_transition(rule_id, subject, firing, value)` makes the
  subject firing (or not) unless it is so already and returns the new
  version, or None when it was so already: of several processes that see the
  same change at once exactly one gets a version, and that one sends the
  message. `revert_alert_transition(rule_id, subject, version)` undoes the
  transition that made `version` (its message could not be sent) unless
  another came after it. `alert_notified(rule_id, subject, version)` records
  that the message of `version` was sent; `reclaim_alert_transitions(rule_id,
  lease_seconds)` claims again, for one process only, the transitions claimed
  longer ago than the lease whose message was never recorded as sent.
  `remove_site` deletes the site's rules and states.
- `add_report(site, email, period)` subscribes an address to the site's
  `week` or `month` email report with a new random unsubscribe token and
  returns the `ReportSubscription`, or None (changing nothing) when that
  address already gets that report; `ValidationError` for an address that is
  not a plain `name@domain` or another period. `list_reports(site=None)`
  reads them by site, period, email; `remove_report(site, email, period=None)`
  deletes that address's subscriptions (one period's, or all) and returns
  how many. `report_by_token(token)` finds one; `unsubscribe_report(token)`
  deletes it and returns it (None when there is none).
- `claim_report_send(site, period, period_start, email)` is True for exactly
  one of the processes that claim the same report at once, and for nobody
  once it was sent; a send that failed (or whose process died) can be claimed
  again once its retry time has come, up to a bounded number of attempts.
  `finish_report_send(..., error="")` records the claimed send as sent, or as
  failed with `error`. `report_sends(site)` reads the log by period start.
  `remove_site` deletes the site's subscriptions and send log.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING

from footfall.stores.meta_records import (
    ALERT_KINDS,
    AlertRule,
    AlertState,
    Annotation,
    FailedEvent,
    Meta,
    SavedFunnel,
    SavedGoal,
    Site,
    Token,
    goal_name,
)

if TYPE_CHECKING:
    from footfall.stores.base import Store

__all__ = [
    "ALERT_KINDS",
    "TOKEN_PREFIX",
    "AlertRule",
    "AlertState",
    "Annotation",
    "FailedEvent",
    "Meta",
    "SavedFunnel",
    "SavedGoal",
    "Site",
    "Token",
    "goal_name",
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
