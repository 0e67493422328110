"""The `footfall` command line. Each command group lives in its own module.

A module listed in `COMMAND_MODULES` exposes `register(group)`; modules whose
optional dependencies are missing are skipped with a note in `--help`.
"""

from __future__ import annotations

import importlib
import logging

import click

__all__ = ["COMMAND_MODULES", "main"]

COMMAND_MODULES = [
    "footfall.cli.core",
    "footfall.cli.sites",
    "footfall.cli.failed",
    "footfall.cli.stats",
    "footfall.cli.users",
    "footfall.cli.worker",
    "footfall.cli.importlog",
]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More logging (-vv for debug).")
@click.version_option(package_name="footfall")
def main(verbose: int) -> None:
    """Footfall: self-hosted usage analytics and event tracking."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


for _name in COMMAND_MODULES:
    try:
        _module = importlib.import_module(_name)
    except ModuleNotFoundError as _exc:
        if _exc.name == _name:
            continue  # not written yet
        raise
    _module.register(main)
