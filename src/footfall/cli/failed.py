"""`footfall failed list|retry`: events that failed schema validation."""

from __future__ import annotations

import click

from footfall.cli.open_store import open_store
from footfall.cli.options import db_option
from footfall.stores.meta import open_meta


@click.group()
def failed() -> None:
    """Events kept aside because they failed validation (Snowplow's bad rows)."""


@failed.command("list")
@db_option
@click.option("--limit", default=50, show_default=True)
@click.option("--site", help="Only this site.")
@click.option("--all", "show_all", is_flag=True, help="Include recovered ones.")
@click.option("--payload", is_flag=True, help="Print the original payloads too.")
def list_cmd(db_url: str, limit: int, site: str | None, show_all: bool, payload: bool) -> None:
    """Show failed events, oldest first."""
    store = open_store(db_url)
    rows = open_meta(store).list_failed(None if show_all else "failed", limit, site)
    store.close()
    if not rows:
        click.echo("no failed events")
    for r in rows:
        when = r.ts.strftime("%Y-%m-%d %H:%M:%S")
        click.echo(f"#{r.id}\t{when}\t{r.status}\t{r.site}\t{r.schema}\t{r.reason}")
        if payload:
            click.echo(f"\t{r.payload}")


@failed.command("retry")
@db_option
@click.option("--schemas", type=click.Path(file_okay=False), help="Folder of JSON schemas.")
@click.option("--strict/--no-strict", default=None, help="Unknown schemas fail (default: env).")
@click.option("--site", help="Only this site.")
@click.option("--limit", default=10_000, show_default=True)
def retry(
    db_url: str, schemas: str | None, strict: bool | None, site: str | None, limit: int
) -> None:
    """Validate failed events again; store those that pass now."""
    # lazy: keeps `footfall --help` fast
    from footfall.collector.config import CollectorConfig
    from footfall.collector.failed import retry_failed
    from footfall.collector.schemas import SchemaRegistry
    from footfall.processors.defaults import default_processors

    config = CollectorConfig.from_env(schemas_dir=schemas)
    registry = SchemaRegistry(
        config.schemas_dir, strict=config.strict_schemas if strict is None else strict
    )
    store = open_store(db_url)
    chain = list(default_processors(store))
    result = retry_failed(
        store, open_meta(store), registry.validate, limit=limit, site=site, processors=chain
    )
    store.close()
    click.echo(
        f"recovered {result.recovered}, still failing {result.still_failing}, "
        f"not retryable {result.not_retryable}"
    )


def register(group: click.Group) -> None:
    group.add_command(failed)
