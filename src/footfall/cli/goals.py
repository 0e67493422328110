"""`footfall goals add|list|remove`: the conversions a site counts.

A goal is saved once and then answered everywhere: the stats API's
`property=event:goal` breakdown and its `filters=event:goal==NAME` read the
site's goals, and so does the dashboard. Goals get Plausible's names
(`Visit /pricing`, `Signup`, `Signup (plan=pro)`; see
`footfall.stores.meta.goal_name`) unless `--name` gives one.
"""

from __future__ import annotations

import click

from footfall.cli.confirm import confirm_delete, yes_option
from footfall.cli.open_store import open_store
from footfall.cli.options import db_option
from footfall.stores.meta import SavedGoal, normalize_domain, open_meta

__all__ = ["register"]

_FLAGS = {"kind": "--page/--event", "prop": "--prop", "revenue_prop": "--revenue-prop"}


def _prop(value: str | None) -> tuple[str, str]:
    if value is None:
        return "", ""
    key, sep, val = value.partition("=")
    if not sep or not key.strip():
        raise click.BadParameter("give KEY=VALUE, e.g. plan=pro", param_hint="--prop")
    return key.strip(), val


def build_goal(
    site: str,
    page: str | None,
    event: str | None,
    prop: str | None,
    revenue_prop: str | None,
    currency: str | None,
    taken: list[SavedGoal],
    name: str | None = None,
) -> SavedGoal:
    """The goal the options describe, checked by the rules the dashboard uses too."""
    # lazy: the stats engine's goal rules (wildcard grammar), loaded when a goal is added
    from footfall.stats.goal_rules import GoalRefused, new_goal

    key, value = _prop(prop)
    try:
        return new_goal(
            site,
            page=page or "",
            event=event or "",
            prop_key=key,
            prop_value=value,
            revenue_prop=revenue_prop or "",
            currency=currency or "",
            name=name or "",
            taken=taken,
        )
    except GoalRefused as exc:
        hint = _FLAGS.get(exc.field, f"--{exc.field}")
        raise click.BadParameter(exc.message, param_hint=hint) from None


def describe(goal: SavedGoal) -> str:
    """What completes `goal`, in words (the `list` column)."""
    if goal.page:
        return f"pageview of {goal.page}"
    text = f"event {goal.event}"
    if goal.prop_key:
        text += f" with {goal.prop_key}={goal.prop_value}"
    if goal.revenue_prop:
        text += f", revenue {goal.revenue_prop} in {goal.currency}"
    return text


@click.group()
def goals() -> None:
    """Goals: the page visits and events a site counts as conversions."""


@goals.command("add")
@db_option
@click.option("--site", required=True, help="The site (as registered with `footfall sites add`).")
@click.option("--page", help="Page path; * matches within a segment, ** across segments.")
@click.option("--event", help="Custom event name, e.g. Signup.")
@click.option("--prop", metavar="KEY=VALUE", help="Only events whose property KEY is VALUE.")
@click.option("--revenue-prop", help="Numeric event property holding the revenue.")
@click.option("--currency", help="Currency of the revenue (ISO 4217, e.g. EUR).")
@click.option("--name", help="Name to show [default: `Visit PATH` or the event name].")
def add(
    db_url: str,
    site: str,
    page: str | None,
    event: str | None,
    prop: str | None,
    revenue_prop: str | None,
    currency: str | None,
    name: str | None,
) -> None:
    """Save a goal for a site."""
    domain = normalize_domain(site)
    store = open_store(db_url)
    try:
        meta = open_meta(store)
        if meta.get_site(domain) is None:
            raise click.ClickException(
                f"unknown site {domain!r} (add it with `footfall sites add`)"
            )
        taken = meta.list_goals(domain)
        goal = build_goal(domain, page, event, prop, revenue_prop, currency, taken, name)
        stored = meta.add_goal(goal)
    finally:
        store.close()
    if stored is None:
        raise click.ClickException(
            f"{domain} already has a goal named {goal.name!r} (choose another with --name)"
        )
    click.echo(f"added goal {stored.name!r} to {domain}: {describe(stored)}")


@goals.command("list")
@db_option
@click.option("--site", help="Only this site's goals [default: every site's].")
def list_cmd(db_url: str, site: str | None) -> None:
    """Show saved goals: site, name, kind and what completes them."""
    store = open_store(db_url)
    try:
        meta = open_meta(store)
        domains = [normalize_domain(site)] if site else [s.domain for s in meta.list_sites()]
        found = [g for d in domains for g in meta.list_goals(d)]
    finally:
        store.close()
    if not found:
        click.echo("no goals (add one with `footfall goals add --site DOMAIN --page /path`)")
    for g in found:
        click.echo(f"{g.site}\t{g.name}\t{g.kind}\t{describe(g)}")


@goals.command("remove")
@db_option
@yes_option
@click.option("--site", required=True, help="The site the goal belongs to.")
@click.argument("name")
def remove(db_url: str, site: str, name: str, yes: bool) -> None:
    """Delete the goal NAME of a site (its events stay)."""
    domain = normalize_domain(site)
    confirm_delete(f"Delete goal {name!r} of {domain}?", yes)
    store = open_store(db_url)
    try:
        done = open_meta(store).remove_goal(domain, name)
    finally:
        store.close()
    if not done:
        raise click.ClickException(f"{domain} has no goal named {name!r}")
    click.echo(f"removed goal {name!r} from {domain}")


def register(group: click.Group) -> None:
    group.add_command(goals)
