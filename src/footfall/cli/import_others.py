"""`footfall import plausible`, `ga4` and `umami`: history kept by another analytics tool.

Plausible's export and GA4 reports are daily aggregates: they are stored as
imported aggregates, which the stats add to footfall's own figures
(`footfall.stats.imported`). Umami's `website_event` table has one row per
event: it becomes events, like an access log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from footfall.cli.confirm import confirm_delete, yes_option
from footfall.cli.import_common import fold_summaries, no_fold_option
from footfall.cli.open_store import open_store
from footfall.cli.options import db_option

__all__ = ["delete_command", "ga4_command", "plausible_command", "umami_command"]

_site_option = click.option("--site", required=True, help="The footfall site the data is for.")
_files = click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)


def _report_aggregates(store: Any, site: str, report: Any, what: str) -> None:
    # lazy: keeps `footfall --help` fast
    from footfall.stats.imported import imported_ranges

    summary = report.summary
    click.echo(f"read {report.rows:,} rows from {report.files:,} {what} files, {report.bad:,} bad")
    for name in report.skipped_files:
        click.echo(f"  skipped file {name}: not a file of the export")
    for name, line, reason in report.bad_samples:
        click.echo(f"  bad row {name}:{line}: {reason}")
    if summary is None:
        click.echo("nothing to import")
        return
    days = f"{summary.first} to {summary.last}" if summary.first else "no days"
    click.echo(f"stored {summary.rows:,} daily rows covering {days} (import {summary.import_id})")
    if summary.replaced:
        click.echo(f"  replaced {summary.replaced:,} rows of the same data imported before")
    for kind, n in sorted(report.kinds.items()):
        click.echo(f"  {n:>10,}  {kind}")
    for other in imported_ranges(store, site):
        if (
            other.import_id != summary.import_id
            and summary.first is not None
            and summary.last is not None
            and other.first <= summary.last
            and summary.first <= other.last
        ):
            click.echo(
                f"warning: an earlier import ({other.source}, {other.first} to {other.last}) "
                f"covers some of the same days: the stats add both. "
                f"`footfall import delete --site {site}` removes every import of the site.",
                err=True,
            )


@click.command("plausible")
@_files
@db_option
@_site_option
def plausible_command(files: tuple[Path, ...], db_url: str, site: str) -> None:
    """Import Plausible's CSV export (the zip, or its imported_*.csv files).

    The daily figures are kept as imported data: the stats add them to
    footfall's own when asked (`with_imported=true`; the dashboard does by
    default). Importing the same export again replaces it, never doubles it.
    """
    # lazy: keeps `footfall --help` fast
    from footfall.importers.plausible import plausible_import
    from footfall.stores.meta import normalize_domain

    store = open_store(db_url, create=True)
    try:
        report = plausible_import(store, normalize_domain(site), list(files))
        _report_aggregates(store, normalize_domain(site), report, "CSV")
    finally:
        store.close()


@click.command("ga4")
@_files
@db_option
@_site_option
def ga4_command(files: tuple[Path, ...], db_url: str, site: str) -> None:
    """Import Google Analytics 4 reports (CSV: an Explore download or an API/BigQuery
    table by date, page path, source, country, device; docs/import-export.md).

    Several files make one import (one report per dimension gives exact
    figures). Importing the same files again replaces them.
    """
    # lazy: keeps `footfall --help` fast
    from footfall.importers.ga4 import ga4_import
    from footfall.stores.meta import normalize_domain

    store = open_store(db_url, create=True)
    try:
        report = ga4_import(store, normalize_domain(site), list(files))
        _report_aggregates(store, normalize_domain(site), report, "report")
    finally:
        store.close()


@click.command("umami")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@db_option
@_site_option
@no_fold_option
def umami_command(file: Path, db_url: str, site: str, no_fold: bool) -> None:
    """Import Umami's website_event table, exported as CSV with its header.

    Page views and custom events keep their time, page, referrer and UTM;
    visitors and visits come from Umami's session and visit ids. Importing
    the same file again stores nothing twice.
    """
    # lazy: the importer loads the processors; keeps `footfall --help` fast
    from footfall.importers.umami import umami_import

    store = open_store(db_url, create=True)
    try:
        r = umami_import(store, site, file)
        click.echo(
            f"read {r.rows:,} rows, {r.bad:,} bad; {r.stored:,} events "
            f"({r.pageviews:,} page views): {r.new:,} new, {r.already:,} already in the store"
        )
        for reason, n in r.skipped.most_common():
            click.echo(f"  skipped {n:,}: {reason}")
        for line, reason in r.bad_samples:
            click.echo(f"  bad row at line {line}: {reason}")
        if r.new and not no_fold:
            fold_summaries(store)
    finally:
        store.close()


@click.command("delete")
@db_option
@_site_option
@yes_option
def delete_command(db_url: str, site: str, yes: bool) -> None:
    """Delete the data imported from Plausible and GA4 for a site (its events stay;
    Umami's imported events are events: `footfall purge` or `delete-visitor`)."""
    # lazy: keeps `footfall --help` fast
    from footfall.importers.aggregates import delete_imported
    from footfall.stores.meta import normalize_domain

    domain = normalize_domain(site)
    confirm_delete(f"Delete the data imported from Plausible and GA4 for {domain}?", yes)
    store = open_store(db_url)
    try:
        n = delete_imported(store, domain)
        click.echo(f"deleted {n:,} import{'' if n == 1 else 's'} of {domain}")
    finally:
        store.close()
