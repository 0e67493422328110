"""Annotations and saved funnels (`Meta`, migration 0051) on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from tests.stores.backends import postgres_store

from footfall import connect
from footfall.errors import ValidationError
from footfall.stores.meta import Site, open_meta
from footfall.stores.meta_records import MAX_ANNOTATION_TEXT, MAX_FUNNEL_STEPS


def _sqlite(tmp_path: Path) -> Any:
    return connect(f"sqlite:///{tmp_path / 'meta.db'}")


FACTORIES = {"sqlite": _sqlite, "postgres": postgres_store}


@pytest.fixture(params=sorted(FACTORIES))
def sql_store(request: Any, tmp_path: Path) -> Iterator[Any]:
    store = FACTORIES[request.param](tmp_path)
    yield store
    store.close()


def test_annotations_are_kept_listed_by_day_and_removed(sql_store: Any) -> None:
    meta = open_meta(sql_store)
    meta.add_site(Site("a.test"))
    late = meta.add_annotation("a.test", date(2026, 11, 30), "  Launched pricing page  ")
    early = meta.add_annotation("a.test", date(2026, 11, 2), "<script>alert(1)</script>")
    meta.add_annotation("a.test", date(2026, 12, 1), "next month")
    meta.add_annotation("b.test", date(2026, 11, 30), "another site")
    assert late.text == "Launched pricing page"
    assert late.id != early.id and late.created_at is not None

    found = meta.list_annotations("a.test", date(2026, 11, 1), date(2026, 11, 30))
    assert [(a.date, a.text) for a in found] == [
        (date(2026, 11, 2), "<script>alert(1)</script>"),  # kept as given: escaped where shown
        (date(2026, 11, 30), "Launched pricing page"),
    ]
    assert [a.id for a in found] == [early.id, late.id]
    assert all(a.site == "a.test" for a in found)

    other = meta.list_annotations("b.test", date(2026, 1, 1), date(2026, 12, 31))
    assert not meta.remove_annotation("a.test", other[0].id)  # another site's id
    assert meta.remove_annotation("a.test", early.id)
    assert not meta.remove_annotation("a.test", early.id)
    left = meta.list_annotations("a.test", date(2026, 1, 1), date(2026, 12, 31))
    assert [a.text for a in left] == ["Launched pricing page", "next month"]


@pytest.mark.parametrize("text", ["", "   ", "x" * (MAX_ANNOTATION_TEXT + 1), "two\nlines"])
def test_annotation_text_limits(sql_store: Any, text: str) -> None:
    meta = open_meta(sql_store)
    with pytest.raises(ValidationError) as err:
        meta.add_annotation("a.test", date(2026, 11, 30), text)
    assert err.value.field == "text"
    assert meta.list_annotations("a.test", date(2026, 1, 1), date(2026, 12, 31)) == []
    assert meta.add_annotation("a.test", date(2026, 11, 30), "é" * MAX_ANNOTATION_TEXT).text


def test_saved_funnels(sql_store: Any) -> None:
    meta = open_meta(sql_store)
    steps = ("event:page==/pricing", "event:page==/signup/**", "event:name==Signup")
    saved = meta.add_funnel("a.test", "Checkout", list(steps))
    assert saved is not None
    assert (saved.site, saved.name, saved.steps) == ("a.test", "Checkout", steps)
    assert meta.add_funnel("a.test", "Checkout", ["event:page==/", "event:page==/x"]) is None
    assert meta.add_funnel("a.test", "Blog", ["event:page==/blog", "event:name==Subscribe"])
    assert meta.add_funnel("b.test", "Checkout", ["event:page==/", "event:page==/b"])

    assert [f.name for f in meta.list_funnels("a.test")] == ["Blog", "Checkout"]
    got = meta.get_funnel("a.test", "Checkout")
    assert (
        got is not None and got.steps == steps and got.id == saved.id
    )  # unchanged by the refused add
    assert meta.get_funnel("a.test", "checkout") is None  # names are exact
    assert meta.get_funnel("c.test", "Checkout") is None

    assert meta.remove_funnel("a.test", "Checkout")
    assert not meta.remove_funnel("a.test", "Checkout")
    assert [f.name for f in meta.list_funnels("a.test")] == ["Blog"]
    assert [f.name for f in meta.list_funnels("b.test")] == ["Checkout"]


@pytest.mark.parametrize(
    ("name", "steps", "field"),
    [
        ("", ["event:page==/", "event:page==/a"], "name"),
        ("x" * 101, ["event:page==/", "event:page==/a"], "name"),
        ("One", ["event:page==/"], "steps"),
        ("Many", [f"event:page==/{i}" for i in range(MAX_FUNNEL_STEPS + 1)], "steps"),
        ("Long", ["event:page==/", "event:page==/" + "a" * 300], "steps"),
    ],
)
def test_saved_funnel_limits(sql_store: Any, name: str, steps: list[str], field: str) -> None:
    meta = open_meta(sql_store)
    with pytest.raises(ValidationError) as err:
        meta.add_funnel("a.test", name, steps)
    assert err.value.field == field
    assert meta.list_funnels("a.test") == []


def test_removing_a_site_removes_its_annotations_and_funnels(sql_store: Any) -> None:
    meta = open_meta(sql_store)
    for domain in ("a.test", "b.test"):
        meta.add_site(Site(domain))
        meta.add_annotation(domain, date(2026, 11, 30), f"note on {domain}")
        meta.add_funnel(domain, "Checkout", ["event:page==/", "event:page==/buy"])
    assert meta.remove_site("a.test") == 0
    everything = (date(2000, 1, 1), date(2100, 12, 31))
    assert meta.list_annotations("a.test", *everything) == []
    assert meta.list_funnels("a.test") == []
    # Added again, the site starts clean; the other site keeps its own.
    meta.add_site(Site("a.test"))
    assert meta.list_annotations("a.test", *everything) == []
    assert [a.text for a in meta.list_annotations("b.test", *everything)] == ["note on b.test"]
    assert [f.name for f in meta.list_funnels("b.test")] == ["Checkout"]
