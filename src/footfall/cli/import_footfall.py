"""`footfall import footfall FILE...`: a `footfall export` (JSON lines) back into a store."""

from __future__ import annotations

import os
import sys
import time

import click

from footfall.cli.import_common import files_argument, fold_summaries, no_fold_option
from footfall.cli.open_store import open_store
from footfall.cli.options import db_option

__all__ = ["footfall_command"]


@click.command("footfall")
@files_argument
@db_option
@click.option(
    "--batch-size",
    type=click.IntRange(100, 1_000_000),
    help="Events per store write. [default: 10,000; the store's own preference when larger]",
)
@no_fold_option
def footfall_command(
    files: tuple[str, ...], db_url: str, batch_size: int | None, no_fold: bool
) -> None:
    """Import a `footfall export --format jsonl` (FILE..., `-` for stdin, gzip read as is).

    Events keep their ids and their enrichment (browser, country, visitor,
    visit): nothing is processed again. Importing the same file twice stores
    each event once, so an interrupted import is finished by running it again.
    """
    # lazy: keeps `footfall --help` fast
    from footfall.importers.footfall_jsonl import FootfallImporter
    from footfall.importers.sources import Input

    missing = [f for f in files if f != "-" and not os.path.isfile(f)]
    if missing:
        raise click.BadParameter(f"no such file: {missing[0]}", param_hint="FILE")
    store = open_store(db_url, create=True)
    importer = FootfallImporter(store, batch_size=batch_size)
    started = time.monotonic()
    try:
        for name in files:
            try:
                source = Input(name, stdin=sys.stdin.buffer)
            except OSError as exc:
                raise click.ClickException(f"cannot read {name}: {exc.strerror}") from None
            with source:
                importer.read(source)
            if source.error:
                click.echo(
                    f"{source.label}: cut short ({source.error}); read up to there", err=True
                )
        r = importer.report
        took = time.monotonic() - started
        rate = r.lines / took if took > 0 else 0.0
        noun = "input" if len(files) == 1 else "inputs"
        click.echo(
            f"read {r.lines:,} lines from {len(files)} {noun} in {took:.1f} s ({rate:,.0f} lines/s)"
        )
        click.echo(f"stored {r.stored:,} events: {r.new:,} new, {r.already:,} already stored")
        if r.blank:
            click.echo(f"blank lines: {r.blank:,}")
        if r.bad:
            click.echo(f"bad lines: {r.bad:,} (not an exported event); the first:")
            for label, number, reason, text in r.bad_samples:
                click.echo(f"  {label}:{number}: {reason}: {text[:160]}")
        if r.new and not no_fold:
            fold_summaries(store)
    finally:
        store.close()
    if r.lines and r.bad == r.lines - r.blank:
        raise click.ClickException("no line was an exported event: is this a `footfall export`?")
