from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("FOOTFALL_NO_SIGNALS", "1")  # pytest owns SIGTERM in-process

pytest_plugins = ["pytester"]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "footfall.db"


@pytest.fixture
def db_url(db_path: Path) -> str:
    return f"sqlite:///{db_path}"


@pytest.fixture
def sqlite_store(db_url: str) -> Iterator[object]:
    from footfall import connect

    store = connect(db_url)
    yield store
    store.close()
