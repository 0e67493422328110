from __future__ import annotations

import pytest

import footfall
from footfall.testing import Capture


def test_capture_fixture_sees_module_level_emits(footfall_capture: Capture) -> None:
    footfall.emit("signup", {"plan": "pro"})
    footfall.emit("login")
    assert footfall_capture.names() == ["signup", "login"]
    assert footfall_capture.events[0].props == {"plan": "pro"}
    footfall_capture.clear()
    assert footfall_capture.events == []


def test_fixture_restores_default_afterwards(pytester: pytest.Pytester) -> None:
    """The tracker registered before a test that used the fixture is the default after it."""
    pytester.makepyfile(
        """
        import footfall
        from footfall.delivery.sinks import CaptureSink

        own = footfall.Tracker([CaptureSink()])
        footfall.register_tracker(own)

        def test_uses_the_fixture(footfall_capture):
            assert footfall.get_tracker() is footfall_capture.tracker

        def test_runs_after_it():
            assert footfall.get_tracker() is own
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_fixture_with_no_tracker_before_leaves_none(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import footfall
        from footfall.tracker import _registry

        def test_uses_the_fixture(footfall_capture):
            footfall.emit("x")

        def test_runs_after_it():
            assert "default" not in _registry
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)
