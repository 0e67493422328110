"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from footfall.stores import default_url

F = TypeVar("F", bound=Callable[..., Any])


def db_option(fn: F) -> F:
    """`--db URL`, defaulting to $FOOTFALL_DB or ./footfall.db."""
    return click.option(
        "--db",
        "db_url",
        default=default_url,
        show_default="$FOOTFALL_DB or sqlite:///./footfall.db",
        help="Store URL: sqlite:///path.db, postgresql://..., clickhouse://...",
    )(fn)
