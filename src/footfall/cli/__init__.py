"""The `footfall` command line. Each command group lives in its own module.

Every module of `COMMANDS` exposes `register(group)`. The modules import only
what `--help` needs at the top; a command loads its heavier parts (the
server, the stats engine, the processors) when it runs.
"""

from __future__ import annotations

import logging

import click

from footfall.cli import (
    alerts,
    annotate,
    core,
    export,
    failed,
    goals,
    imports,
    reports,
    sites,
    stats,
    users,
    worker,
)

__all__ = ["COMMANDS", "main"]

COMMANDS = (
    core,
    sites,
    failed,
    stats,
    users,
    worker,
    imports,
    goals,
    annotate,
    export,
    alerts,
    reports,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More logging (-vv for debug).")
@click.version_option(package_name="footfall")
def main(verbose: int) -> None:
    """Footfall: self-hosted usage analytics and event tracking."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


for _module in COMMANDS:
    _module.register(main)
