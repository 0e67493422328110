"""`footfall annotate`: notes on a site's chart ("Launched pricing page").

An annotation marks one day in the site's time zone; the dashboard draws it
on the main chart. A deploy script can add one with a single line, so the
command keeps the note as its one argument and the rest as options.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from footfall.cli.confirm import confirm_delete, yes_option
from footfall.cli.open_store import open_store
from footfall.cli.options import db_option
from footfall.errors import ValidationError
from footfall.stores.meta import Meta, Site, normalize_domain, open_meta

__all__ = ["register"]

# Every day an annotation can have: `--list` shows them all.
_FIRST_DAY = date(1970, 1, 1)
_LAST_DAY = date(9999, 12, 31)


def _today(site: Site) -> date:
    try:
        return datetime.now(ZoneInfo(site.timezone)).date()
    except (ZoneInfoNotFoundError, ValueError):
        return datetime.now(ZoneInfo("UTC")).date()


def _site(meta: Meta, domain: str) -> Site:
    found = meta.get_site(normalize_domain(domain))
    if found is None:
        raise click.ClickException(
            f"unknown site {normalize_domain(domain)!r} (add it with `footfall sites add`)"
        )
    return found


@click.command("annotate")
@db_option
@yes_option
@click.argument("text", required=False)
@click.option(
    "--site", help="The site (domain) the note belongs to. [--list: default every site's]"
)
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The day, YYYY-MM-DD, in the site's time zone. [default: today there]",
)
@click.option("--list", "show", is_flag=True, help="List annotations: ID, site, day, text.")
@click.option("--remove", "remove_id", type=int, metavar="ID", help="Remove annotation ID.")
def annotate(
    db_url: str,
    text: str | None,
    site: str | None,
    day: datetime | None,
    show: bool,
    remove_id: int | None,
    yes: bool,
) -> None:
    """Add TEXT as a note on a day of a site's chart; or --list, or --remove ID."""
    if sum((text is not None, show, remove_id is not None)) != 1:
        raise click.UsageError("give the note's TEXT, or --list, or --remove ID")
    if day is not None and text is None:
        raise click.UsageError("--date goes with a new note's TEXT")
    if site is None and not show:
        raise click.UsageError("give --site (only --list goes without it)")
    if remove_id is not None and site is not None:
        confirm_delete(f"Delete annotation #{remove_id} of {normalize_domain(site)}?", yes)
    store = open_store(db_url)
    try:
        meta = open_meta(store)
        if show or site is None:  # without --site, only --list got this far
            _list(meta, site)
            return
        found = _site(meta, site)
        if remove_id is not None:
            if not meta.remove_annotation(found.domain, remove_id):
                raise click.ClickException(f"no annotation #{remove_id} on {found.domain}")
            click.echo(f"removed annotation #{remove_id} from {found.domain}")
        elif text is not None:
            when = day.date() if day is not None else _today(found)
            note = meta.add_annotation(found.domain, when, text)
            click.echo(f"added annotation #{note.id} on {when.isoformat()} to {found.domain}")
    except ValidationError as exc:
        raise click.BadParameter(exc.reason, param_hint=exc.field.upper()) from None
    finally:
        store.close()


def _list(meta: Meta, site: str | None) -> None:
    """`--list`: one site's annotations, or every site's, by site and day."""
    domains = [_site(meta, site).domain] if site else [s.domain for s in meta.list_sites()]
    notes = [n for d in domains for n in meta.list_annotations(d, _FIRST_DAY, _LAST_DAY)]
    if not notes:
        where = f" for {domains[0]}" if site else ""
        click.echo(f"no annotations{where} (add one with `footfall annotate --site DOMAIN TEXT`)")
    for note in notes:
        click.echo(f"#{note.id}\t{note.site}\t{note.date.isoformat()}\t{note.text}")


def register(group: click.Group) -> None:
    group.add_command(annotate)
