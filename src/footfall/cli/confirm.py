"""Confirming a delete: asked at a terminal, `--yes` in scripts.

A cron job or CI step has no terminal: a prompt there reads end-of-file and
click prints a bare "Aborted!", which says neither why nor what to change.
Without a terminal, a delete that was not confirmed with `--yes` is refused
with a message naming `--yes`, before anything is deleted.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

__all__ = ["confirm_delete", "yes_option"]

F = TypeVar("F", bound=Callable[..., Any])


def yes_option(fn: F) -> F:
    """`--yes`: delete without asking (what scripts and cron jobs pass)."""
    return click.option(
        "--yes", "-y", is_flag=True, help="Do not ask for confirmation (scripts, cron)."
    )(fn)


def confirm_delete(question: str, yes: bool) -> None:
    """Return when the delete may go ahead; otherwise exit without deleting.

    `--yes` goes ahead. At a terminal the user is asked `question` ("n" exits
    1 with "Aborted!"); with no terminal the command fails with a usage error
    (exit 2) that names `--yes`.
    """
    if yes:
        return
    if not sys.stdin.isatty():
        raise click.UsageError(
            f"{question} Not confirmed: there is no terminal to ask on. "
            "Pass --yes to delete (as scripts and cron jobs do)."
        )
    click.confirm(question, abort=True)
