from __future__ import annotations

import footfall
from footfall.testing import Capture


def test_capture_fixture_sees_module_level_emits(footfall_capture: Capture) -> None:
    footfall.emit("signup", {"plan": "pro"})
    footfall.emit("login")
    assert footfall_capture.names() == ["signup", "login"]
    assert footfall_capture.events[0].props == {"plan": "pro"}
    footfall_capture.clear()
    assert footfall_capture.events == []


def test_fixture_restores_default_afterwards() -> None:
    assert type(footfall.get_tracker()).__name__ == "_NullTracker"
