"""`footfall import flask-track-usage URL`: Flask-Track-Usage's table into the store."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import cast

import click

from footfall.cli.import_common import fold_summaries, geoip_option, ip_option
from footfall.cli.open_store import open_store
from footfall.cli.options import db_option
from footfall.errors import ConfigurationError
from footfall.processors.privacy import IpMode
from footfall.redact import redact_url

__all__ = ["flask_track_usage"]


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=timezone.utc) if value is not None else None


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
@ip_option
@geoip_option
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
            fold_summaries(store)
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
