"""Property and context keys holding a NUL character are refused at validation.

PostgreSQL's jsonb cannot hold `\\u0000`, so one such key made the store
refuse the whole batch, good events beside it included; the collector's
parser refused them already, but `Tracker.emit` and `validate` let them by.
"""

from __future__ import annotations

import pytest

from footfall import Tracker
from footfall.delivery.sinks import CaptureSink
from footfall.errors import ValidationError
from footfall.event import Event, check_fields, validate


@pytest.mark.parametrize("field", ["props", "context"])
def test_a_nul_in_a_key_is_refused_by_both_checks(field: str) -> None:
    bad = {"ok": {"nested\x00key": 1}}
    with pytest.raises(ValidationError):
        check_fields({"name": "x", field: bad})
    with pytest.raises(ValidationError):
        validate(Event(name="x", **{field: bad}))


def test_emit_refuses_a_nul_key_and_sends_nothing() -> None:
    sink = CaptureSink()
    tracker = Tracker([sink])
    try:
        with pytest.raises(ValidationError):
            tracker.emit("signup", {"plan\x00": "pro"})
        tracker.emit("signup", {"plan": "pro"})
        assert tracker.flush(5)
        assert [e.props for e in sink.events] == [{"plan": "pro"}]
    finally:
        tracker.close(5)
