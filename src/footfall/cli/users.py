"""`footfall users add|list|delete|passwd`: dashboard accounts."""

from __future__ import annotations

import sys

import click

from footfall.cli.confirm import confirm_delete, yes_option
from footfall.cli.open_store import open_store
from footfall.cli.options import db_option
from footfall.errors import ValidationError


def _read_password(from_stdin: bool) -> str:
    """From a hidden prompt (typed twice), or the first line of stdin (scripts, CI)."""
    if from_stdin or not sys.stdin.isatty():
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@click.group()
def users() -> None:
    """Dashboard users (passwords are stored as argon2 hashes)."""


@users.command("add")
@db_option
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
def add(db_url: str, name: str, password_stdin: bool) -> None:
    """Create user NAME; the password comes from a prompt or stdin."""
    from footfall.dashboard.auth import Users  # lazy: keeps `footfall --help` fast

    store = open_store(db_url, create=True)
    password = _read_password(password_stdin)
    try:
        Users(store).add(name, password)
    except ValidationError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"user {name} added")


@users.command("passwd")
@db_option
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
def passwd(db_url: str, name: str, password_stdin: bool) -> None:
    """Set a new password for NAME (ends that user's sessions)."""
    from footfall.dashboard.auth import Users  # lazy: keeps `footfall --help` fast

    users_store = Users(open_store(db_url))
    if name not in users_store.names():
        raise click.ClickException(f"no user {name!r}")
    try:
        users_store.add(name, _read_password(password_stdin), replace=True)
    except ValidationError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"password of {name} changed")


@users.command("list")
@db_option
def list_users(db_url: str) -> None:
    """List user names."""
    from footfall.dashboard.auth import Users  # lazy: keeps `footfall --help` fast

    for name in Users(open_store(db_url)).names():
        click.echo(name)


@users.command("delete")
@db_option
@click.argument("name")
@yes_option
def delete(db_url: str, name: str, yes: bool) -> None:
    """Delete user NAME and end their sessions."""
    from footfall.dashboard.auth import Users  # lazy: keeps `footfall --help` fast

    users_store = Users(open_store(db_url))
    if name not in users_store.names():
        raise click.ClickException(f"no user {name!r}")
    confirm_delete(f"Delete dashboard user {name}?", yes)
    if not users_store.delete(name):
        raise click.ClickException(f"no user {name!r}")
    click.echo(f"user {name} deleted")


def register(group: click.Group) -> None:
    group.add_command(users)
