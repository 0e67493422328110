"""run_chain with batch processors: whole batches, same results, failures contained."""

from __future__ import annotations

from footfall.errors import DropEvent
from footfall.event import Event
from footfall.processors import BatchProcessor, run_chain


class Numbering:
    """A batch processor that numbers the batch it is given."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def __call__(self, event: Event) -> Event:
        return self.process_batch([event])[0]

    def process_batch(self, events: list[Event]) -> list[Event]:
        self.batches.append(len(events))
        for i, ev in enumerate(events):
            ev.props["n"] = i
        return events


class Broken(Numbering):
    def process_batch(self, events: list[Event]) -> list[Event]:
        raise RuntimeError("bug")


def drop_odd(event: Event) -> Event:
    if event.name.endswith(("1", "3")):
        raise DropEvent
    return event


def tag(event: Event) -> Event:
    event.props["tagged"] = True
    return event


def test_batch_processor_sees_survivors_at_once() -> None:
    numbering = Numbering()
    assert isinstance(numbering, BatchProcessor)
    events = [Event(name=f"e{i}") for i in range(5)]
    out = run_chain([drop_odd, numbering, tag], events)
    assert [e.name for e in out] == ["e0", "e2", "e4"]
    assert numbering.batches == [3]
    assert [e.props for e in out] == [{"n": i, "tagged": True} for i in range(3)]


def test_failing_batch_processor_keeps_the_batch() -> None:
    out = run_chain([Broken(), tag], [Event(name="a"), Event(name="b")])
    assert [e.props for e in out] == [{"tagged": True}, {"tagged": True}]


def test_plain_chain_unchanged() -> None:
    out = run_chain([drop_odd, tag], [Event(name="e1"), Event(name="e2")])
    assert [(e.name, e.props) for e in out] == [("e2", {"tagged": True})]
