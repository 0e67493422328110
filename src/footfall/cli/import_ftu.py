"""`footfall import flask-track-usage URL`: Flask-Track-Usage's table into the store."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any, cast

import click

from footfall.cli.open_store import open_store
from footfall.cli.options import db_option
from footfall.errors import ConfigurationError
from footfall.processors.privacy import IP_MODES, IpMode
from footfall.redact import redact_url

__all__ = ["flask_track_usage"]


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=timezone.utc) if value is not None else None


def _fold(store: Any) -> None:
    """Fold the new events into the stats summaries now, so the first stats read is fast."""
    # lazy: keeps `footfall --help` fast
    from footfall.stats.summaries.catchup import catch_up

    started = time.monotonic()
    folded = catch_up(store)
    if folded:
        took = time.monotonic() - started
        click.echo(f"stats summaries: {folded:,} events folded in {took:.1f} s", err=True)


@click.command("flask-track-usage")
@click.argument("url")
@db_option
@click.option(
    "--table",
    default="flask_usage",
    show_default=True,
    help="The table SQLStorage wrote (its table_name).",
)
@click.option("--site", help="The site of every row (default: the host of each row's URL).")
@click.option(
    "--forwarded",
    is_flag=True,
    help="The app was behind a proxy: the client address is the last one in xforwardedfor.",
)
@click.option("--since", type=click.DateTime(), help="Only rows at or after this time (UTC).")
@click.option(
    "--until",
    type=click.DateTime(),
    help="Only rows before this time (UTC): when footfall started recording the same app.",
)
@click.option(
    "--ip",
    type=click.Choice(IP_MODES),
    default="drop",
    show_default=True,
    help="What is kept of an IP address once geo and the visitor id have used it.",
)
@click.option(
    "--geoip-db",
    type=click.Path(exists=True, dir_okay=False),
    help="A MaxMind-format database for geo (default: $FOOTFALL_GEOIP_DB, else countries "
    "from geoip2fast).",
)
def flask_track_usage(
    url: str,
    db_url: str,
    table: str,
    site: str | None,
    forwarded: bool,
    since: datetime | None,
    until: datetime | None,
    ip: str,
    geoip_db: str | None,
) -> None:
    """Import the history Flask-Track-Usage's SQLStorage kept.

    URL is the app's database as SQLAlchemy named it: sqlite:///app.db or
    postgresql://user@host/db. It is only read. Running the same import again
    stores nothing twice, so an interrupted import is resumed by running it
    again.
    """
    # lazy: the importer loads the processors; keeps `footfall --help` fast
    from footfall.importers.flask_track_usage import FlaskTrackUsageImporter

    store = open_store(db_url, create=True)
    click.echo(f"footfall: reading table {table!r} of {redact_url(url)}", err=True)
    importer = FlaskTrackUsageImporter(
        store,
        site=site,
        forwarded=forwarded,
        since=_utc(since),
        until=_utc(until),
        ip=cast(IpMode, ip),  # click.Choice checked it
        geoip_db=geoip_db,
    )
    try:
        report = importer.import_table(url, table)
        click.echo(
            f"{report.rows:,} rows read, {report.bad:,} bad; {report.stored:,} events "
            f"({report.pageviews:,} page views): {report.new:,} new, "
            f"{report.already:,} already in the store"
        )
        for reason, n in report.skipped.most_common():
            click.echo(f"  skipped {n:,}: {reason}")
        for row_id, reason in report.bad_samples:
            click.echo(f"  bad row id={row_id}: {reason}")
        if report.new:
            _fold(store)
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
