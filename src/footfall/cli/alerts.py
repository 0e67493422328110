"""`footfall alerts add|list|remove|check`: alert rules per site, and a check for cron."""

from __future__ import annotations

import click

from footfall.cli.confirm import confirm_delete, yes_option
from footfall.cli.open_store import open_store
from footfall.cli.options import db_option
from footfall.errors import ValidationError
from footfall.stores.meta import ALERT_KINDS, AlertRule, normalize_domain, open_meta
from footfall.stores.meta_reports import check_email

_KIND_HELP = (
    "spike: current visitors above --threshold; drop: the last hour's pageviews below "
    "--below % of the same hour last week; errors: a path's 5xx share above --threshold %; "
    "slow: a path's p95 above --p95-ms."
)


def _threshold(
    kind: str, threshold: float | None, below: float | None, p95_ms: float | None
) -> float:
    """The one number the kind needs, from the option that names it."""
    wanted = {
        "spike": "--threshold",
        "drop": "--below",
        "errors": "--threshold",
        "slow": "--p95-ms",
    }
    given = {"--threshold": threshold, "--below": below, "--p95-ms": p95_ms}
    extra = [name for name, value in given.items() if value is not None and name != wanted[kind]]
    if extra:
        raise click.UsageError(f"--kind {kind} takes {wanted[kind]}, not {', '.join(extra)}")
    value = given[wanted[kind]]
    if value is None:
        raise click.UsageError(f"--kind {kind} needs {wanted[kind]}")
    if value < 0 or (kind in ("drop", "errors") and value > 100):
        raise click.BadParameter("out of range", param_hint=wanted[kind])
    return float(value)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


@click.group()
def alerts() -> None:
    """Alerts: a message when traffic spikes or drops, or a path errs or slows down."""


@alerts.command("add")
@db_option
@click.option("--site", required=True, help="The site to watch (e.g. example.com).")
@click.option("--kind", type=click.Choice(ALERT_KINDS), required=True, help=_KIND_HELP)
@click.option("--threshold", type=float, help="spike: visitors; errors: percent of 5xx.")
@click.option("--below", type=float, help="drop: percent of last week's same hour.")
@click.option("--p95-ms", "p95_ms", type=float, help="slow: p95 response time in ms.")
@click.option(
    "--window", default=None, help="errors, slow: how far back (5m, 15m, 1h). [default: 15m]"
)
@click.option(
    "--min-requests",
    type=click.IntRange(min=0),
    default=None,
    help="errors, slow: fewest requests a path needs in the window [default: 20]; "
    "drop: fewest pageviews last week's hour needs [default: 10].",
)
@click.option(
    "--email",
    "emails",
    multiple=True,
    help="Send to this address (repeatable, or comma-separated).",
)
@click.option("--webhook", default="", help="POST to this Slack/Mattermost incoming webhook URL.")
def add(
    db_url: str,
    site: str,
    kind: str,
    threshold: float | None,
    below: float | None,
    p95_ms: float | None,
    window: str | None,
    min_requests: int | None,
    emails: tuple[str, ...],
    webhook: str,
) -> None:
    """Add an alert rule to a site."""
    # lazy: keeps `footfall --help` fast (the alert modules load the stats engine)
    from footfall.reports.alert_rules import DEFAULT_MIN_REQUESTS, describe, parse_window
    from footfall.reports.webhook import check_webhook_url

    value = _threshold(kind, threshold, below, p95_ms)
    seconds = 0
    if window is not None:
        if kind not in ("errors", "slow"):
            raise click.UsageError("--window is for --kind errors and slow")
        try:
            seconds = parse_window(window)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--window") from None
    listed = [a.strip() for email in emails for a in email.split(",") if a.strip()]
    if not listed and not webhook.strip():
        raise click.UsageError("say where alerts go: --email ADDRESS and/or --webhook URL")
    addresses: list[str] = []
    for address in listed:
        try:
            clean = check_email(address)
        except ValidationError:
            raise click.BadParameter(
                f"not an email address: {address!r}", param_hint="--email"
            ) from None
        if clean not in addresses:
            addresses.append(clean)
    if webhook.strip():
        try:
            webhook = check_webhook_url(webhook)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--webhook") from None
    domain = normalize_domain(site)
    store = open_store(db_url)
    try:
        meta = open_meta(store)
        if meta.get_site(domain) is None:
            raise click.ClickException(f"no site {domain} (add it with `footfall sites add`)")
        rule = meta.add_alert(
            AlertRule(
                site=domain,
                kind=kind,
                threshold=value,
                window_seconds=seconds,
                min_requests=DEFAULT_MIN_REQUESTS[kind] if min_requests is None else min_requests,
                email=",".join(addresses),
                webhook=webhook.strip(),
            )
        )
    finally:
        store.close()
    click.echo(f"added alert #{rule.id} on {domain}: {describe(rule)}")


@alerts.command("list")
@db_option
@click.option("--site", help="Only this site's rules.")
def list_cmd(db_url: str, site: str | None) -> None:
    """Show alert rules, and which are firing now."""
    # lazy: keeps `footfall --help` fast
    from footfall.reports.alert_rules import describe
    from footfall.reports.webhook import shown_url

    store = open_store(db_url)
    try:
        meta = open_meta(store)
        rules = meta.list_alerts(normalize_domain(site) if site else None)
        firing = {r.id: [s.subject for s in meta.alert_states(r.id) if s.firing] for r in rules}
    finally:
        store.close()
    if not rules:
        click.echo("no alerts (add one with `footfall alerts add`)")
    for r in rules:
        channels = [address for address in r.email.split(",") if address]
        if r.webhook:
            channels.append(shown_url(r.webhook))
        to = ", ".join(channels)
        now = firing[r.id]
        state = "ok" if not now else "FIRING" + (f" ({', '.join(now)})" if any(now) else "")
        click.echo(f"#{r.id}\t{r.site}\t{r.kind}\t{describe(r)}\t-> {to}\t{state}")


@alerts.command("remove")
@db_option
@yes_option
@click.argument("rule_id", type=int)
def remove(db_url: str, rule_id: int, yes: bool) -> None:
    """Delete alert rule RULE_ID (see `footfall alerts list`)."""
    confirm_delete(f"Delete alert #{rule_id}?", yes)
    store = open_store(db_url)
    try:
        removed = open_meta(store).remove_alert(rule_id)
    finally:
        store.close()
    if not removed:
        raise click.ClickException(f"no alert #{rule_id}")
    click.echo(f"removed alert #{rule_id}")


@alerts.command("check")
@db_option
@click.option("--site", help="Only this site's rules.")
def check(db_url: str, site: str | None) -> None:
    """Check the rules once and send what started or ended (for cron)."""
    # lazy: keeps `footfall --help` fast
    from footfall.reports.alerts import check_alerts

    store = open_store(db_url)
    try:
        result = check_alerts(store, normalize_domain(site) if site else None)
    finally:
        store.close()
    sent = result.fired + result.resolved
    click.echo(
        f"checked {_count(result.rules, 'rule')}: {_count(sent, 'message')} sent"
        + (f" ({result.fired} fired, {result.resolved} resolved)" if sent else "")
        + (f", {_count(result.failed_rules, 'rule')} failed" if result.failed_rules else "")
        + (f", {_count(result.undelivered, 'message')} not delivered" if result.undelivered else "")
    )
    if result.failed_rules or result.undelivered:
        raise SystemExit(1)


def register(group: click.Group) -> None:
    group.add_command(alerts)
