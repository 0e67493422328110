"""Worker processes read a large log's blocks; the result is the one this process gives."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from footfall.importers import pool, sources
from footfall.importers.log import LogImporter
from footfall.importers.sources import Input

from .conftest import BOT_AGENTS, DAY, REQUESTS, SITE, Hit, rows, write_log


def _busy_day(path: Path) -> Path:
    """A few thousand requests of many visitors, with double clicks here and there."""
    rng = random.Random(5)
    agents = sorted({h.agent for h in REQUESTS if h.agent} | BOT_AGENTS)
    hits: list[Hit] = []
    for i in range(4_000):
        model = rng.choice(REQUESTS)
        at = DAY + timedelta(seconds=i * 7 + rng.randrange(5))
        ip = f"81.{rng.randrange(3)}.{rng.randrange(40)}.{rng.randrange(1, 9)}"
        hit = Hit(at, ip, model.method, model.target, model.status, model.size, model.referrer,
                  rng.choice(agents), model.ctype)  # fmt: skip
        hits.append(hit)
        if i % 37 == 0:
            hits.append(hit)  # the same line twice
    return write_log(path, "combined", hits)


def _import(url: str, store_of: Any, log: Path, workers: int) -> tuple[list[dict[str, Any]], bool]:
    store = store_of(url)
    importer = LogImporter(store, site=SITE, secret=b"k" * 32, workers=workers, batch_size=500)
    with Input(str(log)) as source:
        importer.read(source)
    parallel = importer.parallel
    importer.close()
    return rows(store), parallel


def test_worker_processes_give_the_same_events(
    tmp_path: Path, store_of: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _busy_day(tmp_path / "access.log")
    here, parallel = _import(f"sqlite:///{tmp_path / 'here.db'}", store_of, log, 0)
    assert not parallel and len(here) > 1_000
    monkeypatch.setattr(pool, "INLINE_BYTES", 64 * 1024)  # workers take over after one block
    monkeypatch.setattr(sources, "BLOCK_BYTES", 32 * 1024)  # and read ~20 blocks
    there, parallel = _import(f"sqlite:///{tmp_path / 'there.db'}", store_of, log, 2)
    assert parallel
    assert there == here
