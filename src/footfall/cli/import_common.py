"""What the `footfall import` commands share: enrichment options and the fold at the end."""

from __future__ import annotations

import time
from typing import Any

import click

from footfall.processors.privacy import IP_MODES

ip_option = click.option(
    "--ip",
    type=click.Choice(IP_MODES),
    default="drop",
    show_default=True,
    help="What is kept of an IP address once geo and the visitor id have used it.",
)
geoip_option = click.option(
    "--geoip-db",
    type=click.Path(exists=True, dir_okay=False),
    help="A MaxMind-format database for geo (default: $FOOTFALL_GEOIP_DB, else countries "
    "from geoip2fast).",
)
no_fold_option = click.option(
    "--no-fold",
    is_flag=True,
    help="Leave the stats summaries to `footfall serve` or the first stats read.",
)
files_argument = click.argument(
    "files",
    nargs=-1,
    required=True,
    metavar="FILE...",
    type=click.Path(dir_okay=False, allow_dash=True),
)


def fold_summaries(store: Any) -> None:
    """Fold the new events into the stats summaries now, so the first stats read is fast."""
    # lazy: keeps `footfall --help` fast
    from footfall.stats.summaries.catchup import catch_up

    started = time.monotonic()
    folded = catch_up(store)
    if folded:
        took = time.monotonic() - started
        click.echo(f"stats summaries: {folded:,} events folded in {took:.1f} s", err=True)
