"""`footfall reports add|list|remove|send`: who gets a site's email report, and sending it.

`send` is what cron runs (`footfall serve` sends on its own schedule too):
it sends the last complete week or month, and the send log makes sure a
recipient gets each report once however many senders run.
"""

from __future__ import annotations

from datetime import datetime

import click

from footfall.cli.confirm import confirm_delete, yes_option
from footfall.cli.open_store import open_store
from footfall.cli.options import db_option
from footfall.errors import ConfigurationError, ValidationError
from footfall.stores.meta import normalize_domain, open_meta
from footfall.stores.meta_records import REPORT_PERIODS
from footfall.stores.meta_reports import check_email

__all__ = ["register"]

_PERIOD = click.Choice(REPORT_PERIODS)


@click.group()
def reports() -> None:
    """Email reports: a site's week or month, to a list of recipients."""


@reports.command("add")
@db_option
@click.option("--site", required=True, help="The site to report on (e.g. example.com).")
@click.option("--email", "emails", required=True, multiple=True, help="Recipient (repeatable).")
@click.option("--period", type=_PERIOD, default="week", show_default=True)
def add(db_url: str, site: str, emails: tuple[str, ...], period: str) -> None:
    """Send SITE's weekly (or monthly) report to these addresses."""
    for email in emails:  # every address checked before any is added
        try:
            check_email(email)
        except ValidationError as exc:
            raise click.BadParameter(exc.reason, param_hint="--email") from None
    domain = normalize_domain(site)
    store = open_store(db_url)
    try:
        meta = open_meta(store)
        if meta.get_site(domain) is None:
            raise click.ClickException(f"no site {domain} (add it with `footfall sites add`)")
        for email in emails:
            sub = meta.add_report(domain, email, period)
            if sub is None:
                click.echo(f"{email.strip()} already gets the {period}ly report of {domain}")
            else:
                click.echo(f"{sub.email} will get the {period}ly report of {domain}")
    finally:
        store.close()


@reports.command("list")
@db_option
@click.option("--site", help="Only this site's recipients.")
def list_cmd(db_url: str, site: str | None) -> None:
    """Show who gets which report."""
    store = open_store(db_url)
    try:
        subs = open_meta(store).list_reports(normalize_domain(site) if site else None)
    finally:
        store.close()
    if not subs:
        click.echo("no reports (add one with `footfall reports add --site SITE --email ADDRESS`)")
    for sub in subs:
        click.echo(f"{sub.site}\t{sub.period}\t{sub.email}")


@reports.command("remove")
@db_option
@yes_option
@click.option("--site", required=True)
@click.option("--email", required=True)
@click.option("--period", type=_PERIOD, help="Only this report. [default: every one]")
def remove(db_url: str, site: str, email: str, period: str | None, yes: bool) -> None:
    """Stop sending SITE's report(s) to EMAIL."""
    domain = normalize_domain(site)
    which = f"the {period}ly report" if period else "every report"
    confirm_delete(f"Stop sending {which} of {domain} to {email}?", yes)
    store = open_store(db_url)
    try:
        gone = open_meta(store).remove_report(domain, email, period)
    finally:
        store.close()
    if not gone:
        raise click.ClickException(f"{email} gets no such report of {domain}")
    click.echo(f"removed {gone} report{'s' if gone != 1 else ''} of {domain} for {email}")


@reports.command("send")
@db_option
@click.option("--site", help="Send this site's report now. [default: every report that is due]")
@click.option("--period", type=_PERIOD, default="week", show_default=True)
@click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Report on the period holding this day. [default: the last complete one]",
)
@click.option("--to", "to", help="Send to this address only (not the recipients, no send log).")
@click.option("--dry-run", is_flag=True, help="Print the report's text part; send nothing.")
@click.option("--smtp", "smtp", help="SMTP URL. [default: $FOOTFALL_SMTP_URL]")
def send(
    db_url: str,
    site: str | None,
    period: str,
    day: datetime | None,
    to: str | None,
    dry_run: bool,
    smtp: str | None,
) -> None:
    """Send reports: each recipient gets each period's report once (cron-safe)."""
    # lazy: keeps `footfall --help` fast (the report modules load the stats engine)
    from footfall.reports.content import build_report, last_complete, period_starting
    from footfall.reports.render import render
    from footfall.reports.send import next_due, send_due, send_report, send_to, smtp_url
    from footfall.stats.sites import site_info

    if site is None and (to or dry_run or day):
        raise click.UsageError("--to, --dry-run and --date need --site")
    try:
        url = "" if dry_run else smtp_url(smtp)
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None
    store = open_store(db_url)
    try:
        if site is None:
            outcome = send_due(store, url)
            if not outcome.sent and not outcome.failed:
                click.echo(_nothing_due(next_due(store)))
        else:
            domain = normalize_domain(site)
            tz = site_info(store, domain).timezone
            chosen = period_starting(period, day.date()) if day else last_complete(period, tz)
            if dry_run or to:
                report = build_report(store, domain, chosen)
                if dry_run or not to:
                    click.echo(render(report, to or "").text, nl=False)
                    return
                send_to(report, to, url)
                click.echo(f"sent the {period}ly report of {domain} ({chosen.first}) to {to}")
                return
            subs = [s for s in open_meta(store).list_reports(domain) if s.period == period]
            if not subs:
                raise click.ClickException(
                    f"nobody gets the {period}ly report of {domain}"
                    " (add someone with `footfall reports add`, or give --to)"
                )
            outcome = send_report(store, domain, period, chosen, subs, url)
            already = len(subs) - len(outcome.sent) - len(outcome.failed)
            if already:
                click.echo(f"{already} recipient(s) had this report already")
    finally:
        store.close()
    for email in outcome.sent:
        click.echo(f"sent to {email}")
    if outcome.failed:
        for email, why in outcome.failed:
            click.echo(f"failed for {email}: {why} (retried by the next send)", err=True)
        raise click.ClickException(f"{len(outcome.failed)} report(s) not sent")


def _nothing_due(upcoming: tuple[datetime, str, str] | None) -> str:
    """The one line `send` prints when no report was due."""
    if upcoming is None:
        return "nothing due: no reports (add one with `footfall reports add`)"
    when, site, kind = upcoming
    return f"nothing due now; next: the {kind}ly report of {site}, due at {when:%Y-%m-%d %H:%M} UTC"


def register(group: click.Group) -> None:
    group.add_command(reports)
