from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from footfall import connect
from footfall.stores.meta import Site, hash_token, open_meta

from .dataset import TZ, TZ_SITE, UTC_SITE, build

TOKENS = {UTC_SITE: "ff_test_utc_secret", TZ_SITE: "ff_test_berlin_secret"}


@pytest.fixture(scope="session")
def events() -> list[Any]:
    return build()


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory, events: list[Any]) -> Iterator[Any]:
    path: Path = tmp_path_factory.mktemp("stats") / "stats.db"
    s = connect(f"sqlite:///{path}")
    meta = open_meta(s)
    meta.add_site(Site(UTC_SITE, "UTC", False))
    meta.add_site(Site(TZ_SITE, TZ, True))
    for site, secret in TOKENS.items():
        meta.add_token(f"t-{site}", site, hash_token(secret), secret[:9])
    # Small batches, so visits span batches and summaries must merge them.
    for i in range(0, len(events), 37):
        s.write(events[i : i + 37])
    s.write(events[100:180])  # a retried batch: must not be counted twice
    yield s
    s.close()
