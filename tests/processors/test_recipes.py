"""Run the code of docs/recipes/visits.md, as written, on a real SQLite store."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from footfall import Tracker, connect
from footfall.integrations.visits import disable_visit_plugin, enable_visit_plugin
from footfall.processors.defaults import default_processors

DOC = Path(__file__).resolve().parents[2] / "docs" / "recipes" / "visits.md"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"


@pytest.fixture(scope="module")
def recipes() -> dict[str, Any]:
    blocks = re.findall(r"```python[^\n]*\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) == 4
    namespace: dict[str, Any] = {"__name__": "recipes"}
    for block in blocks[:3]:
        exec(compile(block, str(DOC), "exec"), namespace)
    return namespace


@pytest.fixture
def store(db_path: Path) -> Iterator[Any]:
    s = connect(f"sqlite:///{db_path}")
    yield s
    s.close()


def run(store: Any, plugin: Any, requests: list[tuple[float, str, str, str]]) -> None:
    """Track (minute, path, ip, user agent) requests through the default chain."""
    enable_visit_plugin(plugin)
    try:
        tracker = Tracker([store], default_processors(store), site="shop.test")
        for minute, path, ip, ua in requests:
            tracker.emit(
                "pageview",
                url=f"https://shop.test{path}",
                ip=ip,
                user_agent=ua,
                ts=T0 + timedelta(minutes=minute),
            )
        assert tracker.flush(10)
        tracker.close()
    finally:
        disable_visit_plugin(plugin)


def test_browser_per_visit(recipes: dict[str, Any], store: Any, tmp_path: Path) -> None:
    plugin = recipes["BrowserPerVisit"](str(tmp_path / "recipes.db"))
    run(
        store,
        plugin,
        [
            (0, "/", "81.2.69.142", CHROME),
            (5, "/a", "81.2.69.142", CHROME),  # same visit
            (60, "/", "81.2.69.142", CHROME),  # a second visit
            (1, "/", "2.2.2.2", FIREFOX),
        ],
    )
    assert plugin.visits_per_browser() == {"Chrome": 2, "Firefox": 1}


def test_network_per_visit(recipes: dict[str, Any], store: Any, tmp_path: Path) -> None:
    plugin = recipes["NetworkPerVisit"](str(tmp_path / "recipes.db"))
    run(
        store,
        plugin,
        [(0, "/", "81.2.69.142", CHROME), (2, "/", "2a00:1450:4001:82b::200e", FIREFOX)],
    )
    visits = {e.user_agent: e.visit_id for e in store.get_usage()}
    assert plugin.network_of(visits[CHROME]) == "81.2.69.0"
    assert plugin.network_of(visits[FIREFOX]) == "2a00:1450:4001::"
    assert all(e.ip == "" for e in store.get_usage())  # the store keeps no IP
    rows = plugin.db.execute("SELECT network FROM visit_network").fetchall()
    assert "81.2.69.142" not in str(rows)


def test_pitch_to_sale(recipes: dict[str, Any], store: Any, tmp_path: Path) -> None:
    plugin = recipes["PitchToSale"](str(tmp_path / "recipes.db"))
    run(
        store,
        plugin,
        [
            (0, "/pitch", "81.2.69.142", CHROME),
            (4, "/pitch", "81.2.69.142", CHROME),  # the first look counts
            (10, "/checkout/done", "81.2.69.142", CHROME),  # 10 minutes
            (0, "/pitch", "2.2.2.2", FIREFOX),
            (20, "/checkout/done", "2.2.2.2", FIREFOX),  # 20 minutes
            (0, "/checkout/done", "5.9.0.1", CHROME),  # bought without the pitch
            (100, "/pitch", "81.2.69.142", CHROME),  # new visit, no sale
        ],
    )
    assert plugin.median_seconds() == 900.0
    assert plugin.db.execute("SELECT COUNT(*) FROM pitch_to_sale").fetchone()[0] == 2


def test_switching_on_block_runs(recipes: dict[str, Any], tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    block = re.findall(r"```python[^\n]*\n(.*?)```", DOC.read_text(), re.S)[3]
    namespace = dict(recipes)
    exec(compile(block, str(DOC), "exec"), namespace)
    assert (tmp_path / "footfall-recipes.db").exists()
