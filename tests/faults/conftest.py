"""Every test in this folder is a fault-injection test (`pytest -m faults`)."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/faults/" in str(item.path):
            item.add_marker(pytest.mark.faults)
            item.add_marker(pytest.mark.slow)
