"""The custom property keys of a period, on every store: most common first, bounded,
custom events only, keys the stats API would refuse left out."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from footfall import Event
from footfall.stats import prop_keys as prop_keys_module
from footfall.stats.prop_keys import prop_keys
from footfall.stores import Store

START = datetime(2026, 11, 1, tzinfo=timezone.utc)
END = START + timedelta(days=7)


def _event(n: int, name: str, props: dict[str, object], site: str = "keys.test") -> Event:
    return Event(
        id=f"k{n}",
        name=name,
        site=site,
        ts=START + timedelta(hours=n),
        path="/",
        visitor_id=f"v{n}",
        visit_id=f"s{n}",
        props=props,
    )


def test_keys_of_the_period_most_common_first(store: Store) -> None:
    events = [
        *(_event(i, "Purchase", {"plan": "pro", "amount": "9.5"}) for i in range(5)),
        *(_event(10 + i, "Signup", {"plan": "free", "ref": "x"}) for i in range(2)),
        _event(20, "Signup", {"bad key!": "v", "<script>": "v"}),  # refused keys
        _event(21, "pageview", {"utm": "q"}),  # not a custom event
        _event(22, "Signup", {"other_site": "1"}, site="other.test"),
        _event(24 * 9, "Signup", {"after": "1"}),  # after the period
    ]
    store.write(events)
    assert prop_keys(store, "keys.test", START, END) == ["plan", "amount", "ref"]
    assert prop_keys(store, "keys.test", START, END, limit=2) == ["plan", "amount"]
    assert prop_keys(store, "keys.test", START, END, event="Signup") == ["plan", "ref"]
    assert prop_keys(store, "keys.test", END, END + timedelta(days=7)) == ["after"]
    assert prop_keys(store, "nobody.test", START, END) == []


def test_only_the_newest_events_of_the_period_are_looked_at(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The newest SCAN_EVENTS events, bots among them; on ClickHouse the scan is first
    cut to the newest hours by the summaries' hour counters, with the same answer."""
    monkeypatch.setattr(prop_keys_module, "SCAN_EVENTS", 3)
    events = [_event(i, "Signup", {f"k{i}": "1"}) for i in range(10)]
    late = START + timedelta(hours=9, minutes=30)
    events.append(
        Event(id="bot", name="Signup", site="keys.test", ts=late, path="/", is_bot=True,
              visitor_id="vb", visit_id="sb", props={"bot": "1"})
    )  # fmt: skip
    store.write(events)
    # The newest three: the bot's (dropped afterwards), then hours 9 and 8.
    assert prop_keys(store, "keys.test", START, END) == ["k8", "k9"]
