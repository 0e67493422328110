"""`footfall sites add|list` and `footfall token create|list|revoke`."""

from __future__ import annotations

import click

from footfall.cli.options import db_option
from footfall.errors import ValidationError
from footfall.sites import add_site, create_token, list_sites, list_tokens
from footfall.stores import connect
from footfall.stores.meta import normalize_domain, open_meta


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
    store = connect(db_url)
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
    store = connect(db_url)
    found = list_sites(store)
    store.close()
    if not found:
        click.echo("no sites (add one with `footfall sites add DOMAIN`)")
    for s in found:
        click.echo(f"{s.domain}\t{s.timezone}\t{'public' if s.public else 'private'}")


@click.group()
def token() -> None:
    """API tokens for server-side senders (stored hashed)."""


@token.command("create")
@db_option
@click.option("--name", required=True, help="What the token is for.")
@click.option("--site", help="Only valid for this site (default: every site).")
def create(db_url: str, name: str, site: str | None) -> None:
    """Create a token; its secret is printed once, as the last line."""
    store = connect(db_url)
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
    store = connect(db_url)
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
    store = connect(db_url)
    done = open_meta(store).revoke_token(token_id)
    store.close()
    if not done:
        raise click.ClickException(f"no active token #{token_id}")
    click.echo(f"revoked token #{token_id}")


def register(group: click.Group) -> None:
    group.add_command(sites)
    group.add_command(token)
