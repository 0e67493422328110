"""The pytest plugin users test their own tracking with, and the README's example of it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import footfall
from footfall.testing import Capture

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_example() -> str:
    """The Python block of the README's "Testing your own tracking", as printed there."""
    text = README.read_text()
    section = text.split("### Testing your own tracking", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found, "README.md lost its pytest plugin example"
    return found.group(1)


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


def test_the_readme_example_runs_and_captures_the_request_events(
    pytester: pytest.Pytester,
) -> None:
    """The README's test file, copied from the README, passes as a user would run it,
    and its app's store (a real SQLite file in the test's folder) gets no event."""
    pytester.makepyfile(test_tracking=readme_example())
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
    store = footfall.connect(f"sqlite:///{pytester.path / 'footfall.db'}")
    try:
        assert store.count() == 0
    finally:
        store.close()


def test_capture_takes_events_from_trackers_the_code_made_itself(tmp_path: Path) -> None:
    """A tracker writing a real store, made by the app at import time, is captured too."""
    from footfall.testing import capture_events

    url = f"sqlite:///{tmp_path / 'app.db'}"
    own = footfall.Tracker([url], name="app-own")
    try:
        with capture_events() as capture:
            own.emit("shop.checkout", site="s.example")
            assert capture.names() == ["shop.checkout"]
        own.emit("after.capture", site="s.example")  # back to its store
        assert own.flush(30)
        assert [e.name for e in footfall.connect(url).get_usage()] == ["after.capture"]
    finally:
        own.close()
