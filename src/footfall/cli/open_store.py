"""How a command opens its store: it says which one, and reads never create one.

A command run in the wrong folder used to open `./footfall.db` there, quietly
making a new, empty database: sites and tokens went into it while the server
read another, and its senders were refused as unknown. So every command
names the store it uses on stderr, as its first line, with the password
hidden and a relative SQLite path made absolute; and a command that reads or
changes what is there (as opposed to `migrate`, `demo`, `serve` or an `add`)
refuses a SQLite file that does not exist instead of creating it.
"""

from __future__ import annotations

import os

import click

from footfall.redact import redact_url
from footfall.stores import Store, connect, sqlite_path

__all__ = ["announce", "open_store", "shown_url"]


def _absolute(path: str) -> str:
    return os.path.abspath(os.path.expanduser(path))


def shown_url(url: str) -> str:
    """`url` as the user should see it: password hidden, a SQLite file's path absolute."""
    path = sqlite_path(url)
    if path is None:
        return redact_url(url)
    if not path:
        return "sqlite:// (in memory)"
    return redact_url(f"sqlite:///{_absolute(path)}")


def announce(url: str, note: str = "") -> None:
    """Print `footfall: store URL` on stderr (the first line of every command)."""
    click.echo(f"footfall: store {shown_url(url)}{f' ({note})' if note else ''}", err=True)


def open_store(url: str, *, create: bool = False, migrate: bool = True) -> Store:
    """Say which store, then open it.

    Without `create`, a SQLite file that does not exist is an error naming it
    (exit 1), and nothing is created: not the file, its lock file or its folder.
    """
    path = sqlite_path(url)
    missing = bool(path) and not os.path.exists(_absolute(path or ""))
    announce(url, "new file" if missing and create else "")
    if missing and not create:
        raise click.ClickException(f"no footfall database at {path}: pass --db or set FOOTFALL_DB")
    return connect(url, migrate=migrate)
