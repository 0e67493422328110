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

from footfall.cli.options import meta_url
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


def _check_file(url: str, create: bool, flag: str, variable: str) -> str:
    """The note for `announce`; a missing SQLite file without `create` is an error."""
    path = sqlite_path(url)
    missing = bool(path) and not os.path.exists(_absolute(path or ""))
    if missing and not create:
        raise click.ClickException(f"no footfall database at {path}: pass {flag} or set {variable}")
    return "new file" if missing else ""


def open_store(
    url: str, *, create: bool = False, migrate: bool = True, need_meta: bool = True
) -> Store:
    """Say which store (and which metadata store: `--meta`), then open them.

    Without `create`, a SQLite file that does not exist is an error naming it
    (exit 1), and nothing is created: not the file, its lock file or its folder.
    With `need_meta` (every command but `migrate`), an event store that cannot
    hold sites, tokens and users (ClickHouse) and no `--meta` is an error
    naming the flag, before anything is served or written.
    """
    meta = meta_url()
    if meta == url:
        meta = None
    note = _check_file(url, create, "--db", "FOOTFALL_DB")
    announce(url, note)
    if meta:
        meta_note = _check_file(meta, create, "--meta", "FOOTFALL_META_DB")
        click.echo(
            f"footfall: metadata {shown_url(meta)}{f' ({meta_note})' if meta_note else ''}",
            err=True,
        )
    store = connect(url, migrate=migrate, meta=meta)
    if need_meta and not store.meta_home().holds_meta:
        store.close()
        raise click.ClickException(
            f"{shown_url(url)} keeps events only: give the store for sites, tokens, users "
            "and visitor state with --meta postgresql://... (or $FOOTFALL_META_DB)"
        )
    return store
