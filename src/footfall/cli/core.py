"""`footfall migrate`, `demo`, `serve`, `purge`, `delete-visitor`."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import click

from footfall import settings
from footfall.cli.confirm import confirm_delete, yes_option
from footfall.cli.import_common import fold_summaries
from footfall.cli.open_store import open_store, shown_url
from footfall.cli.options import db_option, meta_url
from footfall.redact import redact_url
from footfall.stores.meta import Meta, open_meta


@click.command()
@db_option
def migrate(db_url: str) -> None:
    """Create or upgrade the store's schema (and the --meta store's)."""
    store = open_store(db_url, create=True, migrate=False, need_meta=False)
    applied = store.migrate()
    if store.meta_store is not None:
        applied += store.meta_store.migrate()
    click.echo(
        f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else "")
    )


@click.command()
@db_option
@click.option("--days", default=90, show_default=True, help="Days of history to generate.")
@click.option("--seed", default=42, show_default=True, help="Random seed (same seed, same data).")
@click.option("--scale", default=1.0, show_default=True, help="Multiply the traffic volume.")
@click.option("--if-empty", is_flag=True, help="Do nothing if the store already holds events.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def demo(db_url: str, days: int, seed: int, scale: float, if_empty: bool, quiet: bool) -> None:
    """Load realistic sample data: sites, pages, referrers, campaigns, funnels."""
    from footfall.demo import generate_into  # lazy: keeps `footfall --help` fast

    store = open_store(db_url, create=True)
    if if_empty and store.count() > 0:
        click.echo("store already holds events; demo data not loaded")
        return
    n = generate_into(store, days=days, seed=seed, scale=scale, progress=not quiet)
    click.echo(f"stored {n:,} demo events in {shown_url(db_url)}")
    # Folded here rather than by `footfall serve`'s first reads, which would
    # wait for the fold of the whole demo and could run out of their time budget.
    fold_summaries(store)


@click.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="Server processes.")
@click.option("--schemas", type=click.Path(file_okay=False), help="Folder of JSON schemas.")
@click.option("--log-level", default="warning", show_default=True)
@click.option(
    "--redis",
    "redis_sink",
    help="Append accepted events to this Redis Stream instead of the store "
    "(`footfall worker` stores them).",
)
@click.option(
    "--stream",
    default=settings.STREAM,
    show_default=f"$FOOTFALL_STREAM or {settings.STREAM.default}",
    help="Stream for --redis.",
)
def serve(
    db_url: str,
    host: str,
    port: int,
    workers: int,
    schemas: str | None,
    log_level: str,
    redis_sink: str | None = None,
    stream: str | None = None,
) -> None:
    """Serve the collector, the stats API and the dashboard."""
    import os

    import uvicorn

    os.environ["FOOTFALL_DB"] = db_url
    meta = meta_url()
    if meta:
        os.environ["FOOTFALL_META_DB"] = meta  # the server processes read it there
    if redis_sink:
        os.environ["FOOTFALL_REDIS_SINK"] = redis_sink
    if stream:
        os.environ["FOOTFALL_STREAM"] = stream
    if schemas:
        os.environ["FOOTFALL_SCHEMAS"] = schemas
    try:
        settings.check()  # here, rather than in a traceback from every worker process
    except settings.SettingError as exc:
        raise click.ClickException(str(exc)) from None
    open_store(db_url, create=True).close()  # migrate once, before workers race to do it
    from footfall.dashboard.auth import first_run_message  # lazy: keeps `footfall --help` fast

    message = first_run_message(db_url, host, port, meta=meta)
    if message:
        click.echo(message)
    click.echo(_serving(db_url, host, port))
    if meta:
        click.echo(f"footfall: sites, tokens, users and visitor state in {shown_url(meta)}")
    uvicorn.run(
        "footfall.server.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        proxy_headers=False,
    )


def _serving(db_url: str, host: str, port: int) -> str:
    """What the server does, as the server processes will read it from the environment."""
    redis_url = settings.REDIS_SINK()
    if not redis_url:
        return f"footfall serving {shown_url(db_url)} on http://{host}:{port}"
    return (
        f"footfall serving on http://{host}:{port}: the collector appends events to Redis "
        f"stream {settings.STREAM()!r} at {redact_url(redis_url)} (`footfall worker` stores "
        f"them); sites, tokens, the stats API and the dashboard read {shown_url(db_url)}"
    )


def _parse_date(value: str) -> datetime:
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO date") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


@click.command()
@db_option
@click.option("--before", help="Delete events before this ISO date.")
@click.option("--older-than", type=int, help="Delete events older than this many days.")
@click.option("--site", help="Only this site.")
@yes_option
def purge(
    db_url: str, before: str | None, older_than: int | None, site: str | None, yes: bool
) -> None:
    """Delete old events and failed events (retention)."""
    if (before is None) == (older_than is None):
        raise click.UsageError("give exactly one of --before or --older-than")
    cutoff = (
        _parse_date(before)
        if before
        else datetime.now(timezone.utc) - timedelta(days=older_than or 0)
    )
    store = open_store(db_url)
    scope = f" of {site}" if site else ""
    confirm_delete(f"Delete events{scope} before {cutoff.isoformat()}?", yes)
    n = store.purge(cutoff, site=site)
    click.echo(f"deleted {n} events")
    meta = _failed_events(store)
    if meta is not None:
        click.echo(f"deleted {meta.purge_failed(cutoff, site=site)} failed events")
    _rebuild_hint(store, n)


@click.command("delete-visitor")
@db_option
@click.argument("visitor_id")
@click.option("--site", help="Only this site.")
@yes_option
def delete_visitor(db_url: str, visitor_id: str, site: str | None, yes: bool) -> None:
    """Delete every event and failed event of one visitor (erasure request)."""
    store = open_store(db_url)
    scope = f" on {site}" if site else ""
    confirm_delete(f"Delete every event of visitor {visitor_id}{scope}?", yes)
    n = store.delete_visitor(visitor_id, site=site)
    click.echo(f"deleted {n} events of visitor {visitor_id}")
    meta = _failed_events(store)
    if meta is not None:
        gone = meta.delete_failed_visitor(visitor_id, site=site)
        click.echo(f"deleted {gone} failed events of visitor {visitor_id}")
    _rebuild_hint(store, n)


def _failed_events(store: Any) -> Meta | None:
    """The store's `Meta` holding failed events, or None where it has none (ClickHouse)."""
    try:
        return open_meta(store)
    except NotImplementedError:
        return None


def _rebuild_hint(store: Any, deleted: int) -> None:
    """After a delete, name the sites whose stats now read raw events until a rebuild."""
    # lazy: keeps `footfall --help` fast
    from footfall.stats.summaries.site_status import incomplete_sites

    if not deleted:
        return
    for name in incomplete_sites(store):
        click.echo(
            f"stats summaries of {name} still count deleted events, so its stats read raw "
            f"events (slower) until: footfall stats rebuild --site {name}",
            err=True,
        )


def register(group: click.Group) -> None:
    for cmd in (migrate, demo, serve, purge, delete_visitor):
        group.add_command(cmd)
