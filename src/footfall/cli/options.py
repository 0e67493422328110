"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from footfall import settings
from footfall.stores import default_url

F = TypeVar("F", bound=Callable[..., Any])


META_KEY = "footfall.meta_url"  # where `--meta` waits in the click context for `open_store`


def _keep_meta(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    ctx.meta[META_KEY] = value or None


def meta_url() -> str | None:
    """The `--meta` of the running command, or $FOOTFALL_META_DB, or None."""
    ctx = click.get_current_context(silent=True)
    given = ctx.meta.get(META_KEY) if ctx is not None else None
    return given or settings.META_DB()


def db_option(fn: F) -> F:
    """`--db URL`, defaulting to $FOOTFALL_DB or ./footfall.db, and `--meta URL`.

    `--meta` is not passed to the command: `open_store` reads it from the
    context, so every command that opens a store takes it without repeating it.
    """
    fn = click.option(
        "--meta",
        expose_value=False,
        callback=_keep_meta,
        help="Metadata store URL (sites, tokens, users, failed events, visitor state): "
        "postgresql://... or sqlite:///path.db. [default: $FOOTFALL_META_DB, else the --db "
        "store; required with clickhouse://]",
    )(fn)
    return click.option(
        "--db",
        "db_url",
        default=default_url,
        show_default="$FOOTFALL_DB or sqlite:///./footfall.db",
        help="Store URL: sqlite:///path.db, postgresql://..., clickhouse://...",
    )(fn)
