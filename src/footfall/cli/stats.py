"""`footfall stats`: the dashboard overview in the terminal; `footfall stats rebuild`."""

from __future__ import annotations

from typing import Any

import click
from click.core import ParameterSource

from footfall.cli.open_store import open_store
from footfall.cli.options import db_option

# Not custom events: what the pages and requests tables already count.
_BUILT_IN_EVENTS = ("pageview", "request")


def _table(title: str, rows: list[dict[str, object]], columns: list[str]) -> object:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for i, col in enumerate(columns):
        table.add_column(col.replace("_", " "), justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*(f"{row.get(c, '')}" for c in columns))
    return table


@click.group("stats", invoke_without_command=True)
@db_option
@click.option("--site", help="Site (domain) to report on.")
@click.option(
    "--period",
    default="30d",
    show_default=True,
    help="day, 7d, 30d, month, 6mo, 12mo, year, all, custom",
)
@click.option("--date", "date_", help="YYYY-MM-DD, or YYYY-MM-DD,YYYY-MM-DD with --period custom.")
@click.option("--filters", help="e.g. visit:country==DE;event:page==/blog/**")
@click.option("--limit", default=10, show_default=True, help="Rows per breakdown.")
@click.option(
    "--with-imported",
    is_flag=True,
    help="Add the data imported from Plausible or GA4 (`footfall import plausible|ga4`).",
)
@click.pass_context
def stats(
    ctx: click.Context,
    db_url: str,
    site: str | None,
    period: str,
    date_: str | None,
    filters: str | None,
    limit: int,
    with_imported: bool,
) -> None:
    """Print a site's overview: totals, a daily series and top breakdowns."""
    if ctx.invoked_subcommand is not None:
        if ctx.get_parameter_source("db_url") != ParameterSource.DEFAULT:
            ctx.obj = db_url  # `footfall stats --db URL rebuild`: the sub-command uses it
        return
    if not site:
        raise click.UsageError("--site is required")
    # lazy: keeps `footfall --help` fast
    from rich.console import Console

    from footfall.stats import StatsError, StatsUnavailable, query
    from footfall.stats.sites import site_known

    store = open_store(db_url)
    common: dict[str, Any] = {"period": period, "date": date_, "filters": filters}
    common["with_imported"] = with_imported
    console = Console()
    try:
        if not site_known(store, site):
            click.echo(
                f"footfall: warning: no site {site!r} and no events for it in this store "
                "(`footfall sites list` shows the sites); its numbers are all zero",
                err=True,
            )
        totals = query(
            store, site, metrics="visitors,visits,pageviews,bounce_rate,visit_duration", **common
        )
        series = query(store, site, kind="timeseries", metrics="visitors,pageviews", **common)
        console.print(_table(f"{site} — {period}", [totals], list(totals)))
        console.print(_table("over time", series, ["date", "visitors", "pageviews"]))
        for prop in ("event:page", "visit:source", "visit:country", "visit:browser"):
            rows = query(
                store,
                site,
                kind="breakdown",
                property=prop,
                metrics="visitors,pageviews",
                limit=limit,
                **common,
            )
            key = prop.split(":")[-1]
            console.print(_table(f"top {key}", rows, [key, "visitors", "pageviews"]))
        custom = query(
            store,
            site,
            kind="breakdown",
            property="event:name",
            metrics="visitors,events",
            limit=limit + len(_BUILT_IN_EVENTS),
            **common,
        )
        custom = [r for r in custom if r.get("name") not in _BUILT_IN_EVENTS][:limit]
        console.print(_table("top custom events", custom, ["name", "visitors", "events"]))
    except StatsError as exc:
        raise click.BadParameter(exc.message, param_hint=exc.param) from None
    except StatsUnavailable as exc:
        raise click.ClickException(exc.message) from None


@stats.command("rebuild")
@db_option
@click.option("--site", help="Only this site (default: every site).")
@click.pass_context
def rebuild_cmd(ctx: click.Context, db_url: str, site: str | None) -> None:
    """Recompute summaries from raw events (after purge, a time zone change, an upgrade)."""
    from footfall.stats.summaries.rebuild import rebuild  # lazy: keeps `footfall --help` fast

    if ctx.get_parameter_source("db_url") == ParameterSource.DEFAULT and ctx.obj:
        db_url = str(ctx.obj)  # given to the group: `footfall stats --db URL rebuild`
    n = rebuild(open_store(db_url), site)
    click.echo(f"summaries rebuilt from {n:,} events")


def register(group: click.Group) -> None:
    group.add_command(stats)
