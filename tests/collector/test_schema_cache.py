"""The schema registry's memory stays bounded whatever schema names senders invent."""

from __future__ import annotations

import gc
import json
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from footfall.collector.schemas import SchemaRegistry

KNOWN = "iglu:com.acme/viewed_product/jsonschema/1-0-0"
NAMES = 20_000  # distinct schema names one anonymous sender can make up
LOOKED_UP = 5_000  # with a folder each new name is looked up on disk: fewer, for speed


def _invented(i: int) -> str:
    # Long vendor names, as an attacker would send, so that keeping them shows.
    return f"iglu:com.attacker.{i:06d}.{'x' * 120}/thing/jsonschema/1-0-{i}"


def _retained(work: Callable[[], None]) -> int:
    """Bytes still allocated after `work` ran (and garbage was collected)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        work()
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def test_no_schema_folder_keeps_nothing_per_name() -> None:
    registry = SchemaRegistry(None, strict=True)
    registry.validate(_invented(-1), {})  # first-call costs (regex, caches of the stdlib)

    def flood() -> None:
        for i in range(NAMES):
            assert "unknown" in (registry.validate(_invented(i), {"a": 1}) or "")

    assert _retained(flood) < 64 * 1024


def test_unknown_names_are_cached_in_a_bounded_lru(tmp_path: Path) -> None:
    path = tmp_path / "com.acme" / "viewed_product" / "jsonschema" / "1-0-0"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"type": "object", "required": ["sku"]}))
    registry = SchemaRegistry(tmp_path)
    assert registry.validate(KNOWN, {"sku": "a"}) is None
    registry.validate(_invented(-1), {})

    def flood() -> None:
        for i in range(LOOKED_UP):
            assert registry.validate(_invented(i), {}) is None  # lenient: unknown passes
            if i % 100 == 0:
                assert registry.validate(KNOWN, {}) is not None  # still validated

    # 5,000 names of ~170 characters: about 1.8 MB when every one is kept.
    assert _retained(flood) < 1024 * 1024
    assert registry.validate(KNOWN, {"sku": "a"}) is None
