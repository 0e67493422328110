from __future__ import annotations

from datetime import datetime, timezone

import pytest

from footfall import Event, Tracker, ValidationError
from footfall.event import MAX_REFERRER, check_fields, validate


def _tracker() -> Tracker:
    return Tracker([], site="example.com")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"url": "https://x/" + "a" * 4000}, "url"),
        ({"path": "x\x00y"}, "path"),
        ({"status": -1}, "status"),
        ({"status": "200"}, "status"),
        ({"duration_ms": float("nan")}, "duration_ms"),
        ({"source": "elsewhere"}, "source"),
        ({"ts": datetime(2026, 1, 1)}, "ts"),
        ({"no_such_field": 1}, "no_such_field"),
        ({"site": 5}, "site"),
        ({"is_bot": "yes"}, "is_bot"),
    ],
)
def test_invalid_fields_name_the_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        _tracker().emit("pageview", **fields)
    assert info.value.field == field
    assert info.value.reason


def test_name_limits() -> None:
    t = _tracker()
    with pytest.raises(ValidationError, match="name"):
        t.emit("x" * 201)
    with pytest.raises(ValidationError, match="name"):
        t.emit("")
    assert t.emit("x" * 200).name == "x" * 200


def test_props_limits() -> None:
    t = _tracker()
    with pytest.raises(ValidationError) as info:
        t.emit("e", {f"k{i}": i for i in range(51)})
    assert info.value.field == "props"
    with pytest.raises(ValidationError) as info:
        t.emit("e", {"k" * 101: 1})
    assert info.value.field.startswith("props.")
    with pytest.raises(ValidationError) as info:
        t.emit("e", {"big": "v" * 2001})
    assert info.value.field == "props.big"
    with pytest.raises(ValidationError) as info:
        t.emit("e", {"obj": object()})
    assert info.value.field == "props.obj"
    deep: dict[str, object] = {"leaf": 1}
    for _ in range(8):
        deep = {"d": deep}
    with pytest.raises(ValidationError, match="nested deeper"):
        t.emit("e", deep)
    ok = t.emit("e", {"plan": "pro", "n": 3, "tags": ["a", "b"], "x": None, "f": 1.5})
    assert ok.props == {"plan": "pro", "n": 3, "tags": ["a", "b"], "x": None, "f": 1.5}


def test_referrer_is_truncated_not_refused() -> None:
    ev = _tracker().emit("pageview", referrer="https://r/" + "q" * 5000)
    assert len(ev.referrer) == MAX_REFERRER
    whole = validate(Event(name="pageview", referrer="https://r/" + "q" * 5000))
    assert len(whole.referrer) == MAX_REFERRER


def test_validate_whole_event() -> None:
    with pytest.raises(ValidationError) as info:
        validate(Event(name="pageview", url="u" * 4001))
    assert info.value.field == "url"
    with pytest.raises(ValidationError) as info:
        validate(Event(name="pageview", id=""))
    assert info.value.field == "id"
    assert validate(Event(name="pageview", url="https://a/")).url == "https://a/"


def test_ids_are_unique_and_time_ordered() -> None:
    ids = [Event(name="e").id for _ in range(2000)]
    assert len(set(ids)) == 2000
    assert ids == sorted(ids)


def test_ts_is_utc_now() -> None:
    before = datetime.now(timezone.utc)
    ev = _tracker().emit("e")
    assert ev.ts.tzinfo is not None and before <= ev.ts <= datetime.now(timezone.utc)


def test_check_fields_accepts_known_good() -> None:
    fields = {"name": "pageview", "url": "https://a/b", "status": 200, "duration_ms": 1.5}
    check_fields(fields)  # does not raise
    assert fields["status"] == 200
