"""Shared set-up for the command-line tests: an empty working folder, a filled store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import footfall
from footfall.cli import main
from footfall.sites import add_site, create_token

SITE = "example.com"


def invoke(*args: str, input: str | None = None) -> Result:
    """`footfall ARGS` in this process (stdin is not a terminal, as in cron)."""
    return CliRunner().invoke(main, list(args), input=input, prog_name="footfall")


@pytest.fixture
def empty_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The working folder is an empty folder and $FOOTFALL_DB is unset."""
    folder = tmp_path / "cwd"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.delenv("FOOTFALL_DB", raising=False)
    yield folder


@pytest.fixture
def filled_url(tmp_path: Path) -> str:
    """A SQLite store outside the working folder with a site, its events and a token."""
    url = f"sqlite:///{tmp_path / 'data' / 'footfall.db'}"
    tracker = footfall.Tracker([url], site=SITE)
    for i in range(6):
        tracker.emit("pageview", path=f"/{i % 3}", visitor_id=f"v{i % 2}")
    tracker.emit("shop.checkout", {"plan": "pro"}, visitor_id="v0")
    tracker.close()
    store = footfall.connect(url)
    add_site(store, SITE)
    create_token(store, "backend", SITE)
    store.close()
    return url
