"""`footfall sites add|list|edit|remove` and `footfall token create|list|revoke`."""

from __future__ import annotations

from datetime import datetime, timezone

import click

from footfall.cli.confirm import confirm_delete, yes_option
from footfall.cli.open_store import open_store
from footfall.cli.options import db_option
from footfall.errors import ValidationError
from footfall.sites import (
    add_site,
    create_token,
    edit_site,
    list_sites,
    list_tokens,
    remove_site,
)
from footfall.stores import EventFilter, Store
from footfall.stores.base import SUMMARIES_FOLDED
from footfall.stores.meta import normalize_domain, open_meta

# Later than any event's time: a purge before it takes every event of a site.
_END_OF_TIME = datetime(9000, 1, 1, tzinfo=timezone.utc)


@click.group()
def sites() -> None:
    """Sites the collector accepts events for."""


@sites.command("add")
@db_option
@click.argument("domain")
@click.option("--timezone", "tz", default="UTC", show_default=True, help="IANA time zone.")
@click.option("--public", is_flag=True, help="Anyone may view its dashboard.")
@click.option("--if-missing", is_flag=True, help="Succeed quietly if it already exists.")
def add(db_url: str, domain: str, tz: str, public: bool, if_missing: bool) -> None:
    """Register DOMAIN (e.g. example.com)."""
    store = open_store(db_url, create=True)
    try:
        created = add_site(store, domain, timezone=tz, public=public)
    except ValidationError as exc:
        raise click.BadParameter(exc.reason, param_hint=exc.field) from None
    finally:
        store.close()
    domain = normalize_domain(domain)
    if created:
        click.echo(f"added site {domain}")
    elif if_missing:
        click.echo(f"site {domain} already exists")
    else:
        raise click.ClickException(f"site {domain} already exists")


@sites.command("list")
@db_option
def list_cmd(db_url: str) -> None:
    """Show registered sites."""
    store = open_store(db_url)
    found = list_sites(store)
    store.close()
    if not found:
        click.echo("no sites (add one with `footfall sites add DOMAIN`)")
    for s in found:
        click.echo(f"{s.domain}\t{s.timezone}\t{'public' if s.public else 'private'}")


@sites.command("edit")
@db_option
@click.argument("domain")
@click.option("--timezone", "tz", help="IANA time zone, e.g. Europe/Berlin.")
@click.option("--public/--private", default=None, help="Whether anyone may view its dashboard.")
def edit(db_url: str, domain: str, tz: str | None, public: bool | None) -> None:
    """Change DOMAIN's time zone or whether its dashboard is public."""
    if tz is None and public is None:
        raise click.UsageError("nothing to change: give --timezone, --public or --private")
    store = open_store(db_url)
    try:
        before = open_meta(store).get_site(normalize_domain(domain))
        site = edit_site(store, domain, timezone=tz, public=public)
        # Summaries hold days in the zone they were folded in; the engine reads
        # raw events (right, slower) for a site whose summaries are in another.
        summarised = (
            before is not None
            and before.timezone != site.timezone
            and store.summaries == SUMMARIES_FOLDED
            and bool(store.get_usage(limit=1, filters=EventFilter(site=site.domain)))
        )
    except ValidationError as exc:
        raise click.BadParameter(exc.reason, param_hint=exc.field) from None
    finally:
        store.close()
    click.echo(f"{site.domain}\t{site.timezone}\t{'public' if site.public else 'private'}")
    if summarised and before is not None:
        click.echo(
            f"time zone of {site.domain} changed from {before.timezone} to {site.timezone}: "
            "its stats are computed from raw events (slower) until: "
            f"footfall stats rebuild --site {site.domain}",
            err=True,
        )


@sites.command("remove")
@db_option
@click.argument("domain")
@click.option("--with-events", is_flag=True, help="Delete its events and failed events too.")
@yes_option
def remove(db_url: str, domain: str, with_events: bool, yes: bool) -> None:
    """Unregister DOMAIN and revoke its tokens; refused while it has events,
    unless --with-events deletes them too."""
    store = open_store(db_url)
    try:
        name = normalize_domain(domain)
        if open_meta(store).get_site(name) is None:
            raise click.ClickException(f"unknown site {name!r}")
        events = store.count(filters=EventFilter(site=name))
        if events and not with_events:
            raise click.ClickException(
                f"{name} has {events:,} events: pass --with-events to delete them with the "
                "site, or keep the site"
            )
        what = f"site {name} and its {events:,} events" if with_events else f"site {name}"
        confirm_delete(f"Remove {what}?", yes)
        if with_events:
            _delete_events(store, name)
        revoked = remove_site(store, name)
    except ValidationError as exc:
        raise click.BadParameter(exc.reason, param_hint=exc.field) from None
    finally:
        store.close()
    tokens = f"; revoked {revoked} token(s) scoped to it" if revoked else ""
    deleted = f" and {events:,} events" if with_events else ""
    click.echo(f"removed site {name}{deleted}{tokens}")


def _delete_events(store: Store, site: str) -> None:
    """Every event and failed event of `site`, and its stats summaries."""
    # lazy: keeps `footfall --help` fast
    from footfall.stats.summaries.rebuild import rebuild

    store.purge(_END_OF_TIME, site=site)
    open_meta(store).purge_failed(_END_OF_TIME, site=site)
    if store.summaries == SUMMARIES_FOLDED or store.dialect == "clickhouse":
        rebuild(store, site)  # with no events left: clears the site's summary rows


@click.group()
def token() -> None:
    """API tokens for server-side senders (stored hashed)."""


@token.command("create")
@db_option
@click.option("--name", required=True, help="What the token is for.")
@click.option("--site", help="Only valid for this site (default: every site).")
def create(db_url: str, name: str, site: str | None) -> None:
    """Create a token; its secret is printed once, as the last line."""
    store = open_store(db_url, create=True)
    try:
        tok, secret = create_token(store, name, site)
    except ValidationError as exc:
        raise click.BadParameter(exc.reason, param_hint=exc.field) from None
    finally:
        store.close()
    scope = tok.site or "every site"
    click.echo(f"created token #{tok.id} {tok.name!r} for {scope}; it is shown only once:")
    click.echo(secret)


@token.command("list")
@db_option
def list_tokens_cmd(db_url: str) -> None:
    """Show tokens (never their secrets)."""
    store = open_store(db_url)
    found = list_tokens(store)
    store.close()
    for t in found:
        state = "revoked" if t.revoked else "active"
        click.echo(f"#{t.id}\t{t.prefix}...\t{t.name}\t{t.site or '*'}\t{state}")


@token.command("revoke")
@db_option
@click.argument("token_id", type=int)
def revoke(db_url: str, token_id: int) -> None:
    """Revoke token TOKEN_ID (running servers notice within seconds)."""
    store = open_store(db_url)
    done = open_meta(store).revoke_token(token_id)
    store.close()
    if not done:
        raise click.ClickException(f"no active token #{token_id}")
    click.echo(f"revoked token #{token_id}")


def register(group: click.Group) -> None:
    group.add_command(sites)
    group.add_command(token)
