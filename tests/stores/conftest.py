"""The `store` fixture: every contract test runs once per store backend.

Backends register in STORE_FACTORIES (name -> factory(tmp_path) -> Store).
Factories needing a server call tests.services.unavailable() when it is absent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from footfall import connect
from footfall.stores import Store


def _sqlite(tmp_path: Path) -> Store:
    return connect(f"sqlite:///{tmp_path / 'contract.db'}")


STORE_FACTORIES: dict[str, Callable[[Path], Store]] = {"sqlite": _sqlite}

# PostgreSQL and ClickHouse add themselves in tests/stores/backends.py; an
# error inside it must fail loudly, not silently shrink the suite to SQLite.
from tests.stores.backends import EXTRA_FACTORIES  # noqa: E402

STORE_FACTORIES.update(EXTRA_FACTORIES)


@pytest.fixture(params=sorted(STORE_FACTORIES))
def store(request: Any, tmp_path: Path) -> Iterator[Store]:
    s = STORE_FACTORIES[request.param](tmp_path)
    try:
        yield s
    finally:
        s.close()
