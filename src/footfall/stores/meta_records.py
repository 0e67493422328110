"""The records of a store's meta side (sites, tokens, failed events, goals) and the `Meta` protocol.

Every implementation (`meta_sql.SQLMeta`, a store's own `meta()`) builds and
returns these; callers find them through `footfall.stores.meta`, whose
docstring is the contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = [
    "ALERT_KINDS",
    "MAX_ANNOTATION_TEXT",
    "MAX_FUNNEL_NAME",
    "MAX_FUNNEL_STEP",
    "MAX_FUNNEL_STEPS",
    "REPORT_PERIODS",
    "AlertRule",
    "AlertState",
    "Annotation",
    "FailedEvent",
    "Meta",
    "ReportSend",
    "ReportSubscription",
    "SavedFunnel",
    "SavedGoal",
    "Site",
    "Token",
    "goal_name",
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


@dataclass(frozen=True)
class SavedGoal:
    """A conversion a site owner saved: a page visited, or a custom event sent.

    A page goal (`page` set) is completed by a pageview whose path matches
    `page`, with the filters' wildcards (`/blog/**`). An event goal (`event`
    set) is completed by an event of that name and, when `prop_key` is set,
    whose property `prop_key` equals `prop_value`. With `revenue_prop`, the
    numeric property of that name is the revenue of each completion, in
    `currency` (an ISO 4217 code). Names follow Plausible: `goal_name`.
    """

    site: str
    name: str
    page: str = ""
    event: str = ""
    prop_key: str = ""
    prop_value: str = ""
    revenue_prop: str = ""
    currency: str = ""
    id: int = 0
    created_at: datetime | None = None

    @property
    def kind(self) -> str:
        """ "page" for a page goal, "event" for an event goal."""
        return "page" if self.page else "event"


def goal_name(goal: SavedGoal, taken: Iterable[SavedGoal] = ()) -> str:
    """The name a goal gets when none is given, as Plausible names them.

    A page goal is `Visit /pricing`; an event goal is its event's name
    (`Signup`). When another goal in `taken` already has that name (the same
    event with another property match), the match is appended:
    `Signup (plan=pro)`.
    """
    if goal.page:
        return f"Visit {goal.page}"
    name = goal.event
    if goal.prop_key and any(g.name == name for g in taken):
        name = f"{name} ({goal.prop_key}={goal.prop_value})"
    return name


@dataclass(frozen=True)
class Annotation:
    """A note on one day of a site's chart ("Launched pricing page").

    `date` is a day in the site's time zone, as the chart's days are.
    """

    id: int
    site: str
    date: date
    text: str  # at most MAX_ANNOTATION_TEXT characters; shown escaped, never as HTML
    created_at: datetime | None = None


@dataclass(frozen=True)
class SavedFunnel:
    """A named funnel of a site: its steps as the funnel query reads them.

    Each step is one `event:page==PATH` or `event:name==NAME` expression
    (`footfall.stats.funnel.parse_steps` checks them before they are saved).
    """

    id: int
    site: str
    name: str
    steps: tuple[str, ...]
    created_at: datetime | None = None


MAX_ANNOTATION_TEXT = 200
MAX_FUNNEL_NAME = 100
MAX_FUNNEL_STEPS = 8
MAX_FUNNEL_STEP = 300

# spike: current visitors; drop: the last hour's pageviews against a week before;
# errors: a path's share of 5xx responses; slow: a path's p95 duration.
ALERT_KINDS = ("spike", "drop", "errors", "slow")


@dataclass(frozen=True)
class AlertRule:
    """A condition watched on a site, and where its messages go.

    `threshold` is visitors (spike), percent of last week (drop: fires below),
    percent of 5xx responses (errors) or milliseconds of p95 (slow).
    `window_seconds` and `min_requests` bound the per-path kinds; for drop,
    `min_requests` is the fewest pageviews last week's hour must have had.
    """

    site: str
    kind: str  # one of ALERT_KINDS
    threshold: float
    window_seconds: int = 0
    min_requests: int = 0
    email: str = ""  # addresses, comma-separated ("" = none)
    webhook: str = ""  # an http(s) URL ("" = none)
    id: int = 0
    created_at: datetime | None = None


@dataclass(frozen=True)
class AlertState:
    """Where a rule's episode stands for one subject ("" or a path)."""

    rule_id: int
    subject: str
    firing: bool
    version: int  # incremented by every transition
    value: float  # the measurement that made the last transition
    changed_at: datetime | None = None


REPORT_PERIODS = ("week", "month")


@dataclass(frozen=True)
class ReportSubscription:
    """Someone who gets a site's email report every week or month.

    `token` is the secret of their unsubscribe link: whoever holds the link
    may end this one subscription, nothing else.
    """

    id: int
    site: str
    email: str
    period: str  # one of REPORT_PERIODS
    token: str
    created_at: datetime | None = None


@dataclass(frozen=True)
class ReportSend:
    """One report due to one recipient, in the send log (`Meta.claim_report_send`)."""

    site: str
    period: str
    period_start: date  # the first local day of the period the report covers
    email: str
    status: str  # "sending", "sent" or "failed"
    attempts: int
    error: str = ""
    updated_at: datetime | None = None


@runtime_checkable
class Meta(Protocol):
    """Sites, tokens, failed events, goals of one store; `footfall.stores.meta` is the contract."""

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
    def add_goal(self, goal: SavedGoal) -> SavedGoal | None: ...
    def list_goals(self, site: str) -> list[SavedGoal]: ...
    def remove_goal(self, site: str, name: str) -> bool: ...
    def add_annotation(self, site: str, day: date, text: str) -> Annotation: ...
    def list_annotations(self, site: str, start: date, end: date) -> list[Annotation]: ...
    def remove_annotation(self, site: str, annotation_id: int) -> bool: ...
    def add_funnel(self, site: str, name: str, steps: Sequence[str]) -> SavedFunnel | None: ...
    def list_funnels(self, site: str) -> list[SavedFunnel]: ...
    def get_funnel(self, site: str, name: str) -> SavedFunnel | None: ...
    def remove_funnel(self, site: str, name: str) -> bool: ...
    def add_alert(self, rule: AlertRule) -> AlertRule: ...
    def list_alerts(self, site: str | None = None) -> list[AlertRule]: ...
    def remove_alert(self, rule_id: int) -> bool: ...
    def alert_states(self, rule_id: int) -> list[AlertState]: ...
    def alert_transition(
        self, rule_id: int, subject: str, firing: bool, value: float
    ) -> int | None: ...
    def revert_alert_transition(self, rule_id: int, subject: str, version: int) -> bool: ...
    def alert_notified(self, rule_id: int, subject: str, version: int) -> None: ...
    def reclaim_alert_transitions(self, rule_id: int, lease_seconds: int) -> list[AlertState]: ...
    def add_report(self, site: str, email: str, period: str) -> ReportSubscription | None: ...
    def list_reports(self, site: str | None = None) -> list[ReportSubscription]: ...
    def remove_report(self, site: str, email: str, period: str | None = None) -> int: ...
    def report_by_token(self, token: str) -> ReportSubscription | None: ...
    def unsubscribe_report(self, token: str) -> ReportSubscription | None: ...
    def claim_report_send(self, site: str, period: str, period_start: date, email: str) -> bool: ...
    def finish_report_send(
        self, site: str, period: str, period_start: date, email: str, error: str = ""
    ) -> None: ...
    def report_sends(self, site: str) -> list[ReportSend]: ...
