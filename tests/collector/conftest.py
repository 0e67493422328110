"""A real collector app over a real SQLite file, driven by Starlette's TestClient."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from footfall.collector.ingest import Collector, collector_for
from footfall.server.app import create_app
from footfall.server.state import ServerState
from footfall.sites import add_site, create_token
from footfall.stores import EventFilter, Store, connect

SITE = "example.com"
OTHER = "other.example.org"


@dataclass
class Env:
    client: TestClient
    state: ServerState
    collector: Collector
    token: str  # valid for every site
    site_token: str  # valid for OTHER only
    site: str = SITE
    other: str = OTHER

    @property
    def store(self) -> Store:
        return self.state.store

    def flush(self) -> None:
        assert self.state.tracker.flush(10)
        assert self.collector.flush(10)

    def stored(self, site: str | None = None, name: str | None = None) -> list:
        self.flush()
        return self.store.get_usage(limit=10_000, filters=EventFilter(site=site, name=name))


@pytest.fixture
def make_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Env]]:
    made: list[Env] = []

    def make(**env: str) -> Env:
        monkeypatch.delenv("FOOTFALL_SCHEMAS", raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        url = f"sqlite:///{tmp_path / f'c{len(made)}.db'}"
        setup = connect(url)
        add_site(setup, SITE)
        add_site(setup, OTHER, timezone="Europe/Paris", public=True)
        _, token = create_token(setup, "backend")
        _, site_token = create_token(setup, "other only", OTHER)
        setup.close()
        app = create_app(url)
        client = TestClient(app, client=("203.0.113.9", 5555))
        client.__enter__()
        state: ServerState = app.state.footfall
        e = Env(client, state, collector_for(state), token, site_token)
        made.append(e)
        return e

    yield make
    for e in made:
        e.client.__exit__(None, None, None)
        e.collector.close()


@pytest.fixture
def env(make_env: Callable[..., Env]) -> Env:
    return make_env(FOOTFALL_RATE_LIMIT="off")


class GatedSink:
    """A sink that holds the delivery thread until `open` is set, so the queue stays deep."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.got: list[Any] = []

    def write(self, events: Sequence[Any]) -> None:
        self.open.wait(30)
        self.got.extend(events)

    def close(self) -> None:
        self.open.set()
