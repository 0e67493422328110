"""`footfall export`: a store's events as JSON lines, CSV or Parquet, streamed."""

from __future__ import annotations

import gc
import os
import sys
import time
from datetime import date, datetime, timedelta, timezone

import click

from footfall.cli.open_store import open_store
from footfall.cli.options import db_option

__all__ = ["export_command", "register"]

FORMAT_CHOICES = ("jsonl", "csv", "parquet")  # footfall.exports.formats.FORMATS


def _day(value: datetime | None, days: int = 0) -> datetime | None:
    if value is None:
        return None
    day = date(value.year, value.month, value.day) + timedelta(days=days)
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


@click.command("export")
@db_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMAT_CHOICES),
    default="jsonl",
    show_default=True,
    help="jsonl (what `footfall import footfall` reads back), csv, or parquet "
    "(pip install 'footfall[parquet]').",
)
@click.option("--site", help="Only this site's events (default: every site).")
@click.option(
    "--from",
    "from_",
    type=click.DateTime(["%Y-%m-%d"]),
    help="First day (UTC) to export, YYYY-MM-DD.",
)
@click.option(
    "--to",
    "to",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Last day (UTC) to export, included.",
)
@click.option(
    "-o",
    "--output",
    default="-",
    show_default="stdout",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True),
    help="The file to write; gzip'd when its name ends in .gz.",
)
@click.option(
    "--chunk",
    type=click.IntRange(100, 1_000_000),
    default=10_000,
    show_default=True,
    help="Events per read (and per Parquet row group).",
)
@click.option(
    "--limit",
    type=click.IntRange(1),
    help="Stop after this many events (in the export's order). [default: all]",
)
def export_command(
    db_url: str,
    fmt: str,
    site: str | None,
    from_: datetime | None,
    to: datetime | None,
    output: str,
    chunk: int,
    limit: int | None,
) -> None:
    """Write the store's events, every column, oldest first per site.

    The events are read in chunks, so memory stays flat however many there
    are. `footfall import footfall FILE` reads a JSON-lines export back into
    a store, ids and enrichment kept.
    """
    # lazy: keeps `footfall --help` fast
    from footfall.errors import ConfigurationError
    from footfall.exports.stream import export_events, open_output

    start, end = _day(from_), _day(to, days=1)
    if start is not None and end is not None and end <= start:
        raise click.BadParameter("--to is before --from", param_hint="--to")
    if output == "-" and fmt == "parquet" and sys.stdout.isatty():
        raise click.UsageError("Parquet is binary: give -o FILE or redirect stdout")
    store = open_store(db_url, need_meta=False)
    # An export makes no reference cycles, and the collector's passes over each
    # chunk's ten thousand row tuples cost about a sixth of its time: off while
    # it runs.
    collecting = gc.isenabled()
    gc.disable()
    started = time.monotonic()
    try:
        with open_output(output) as out:
            report = export_events(
                store, out, fmt, site=site, start=start, end=end, chunk=chunk, limit=limit
            )
    except ConfigurationError as exc:
        if output != "-":
            os.remove(output)  # not left looking like an export
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
        if collecting:
            gc.enable()
    took = time.monotonic() - started
    rate = report.events / took if took > 0 else 0.0
    where = "stdout" if output == "-" else output
    click.echo(
        f"exported {report.events:,} events to {where} as {fmt} in {took:.1f} s "
        f"({rate:,.0f} events/s)",
        err=True,
    )


def register(group: click.Group) -> None:
    group.add_command(export_command)
