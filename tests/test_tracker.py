from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

import footfall
from footfall import CaptureSink, DropEvent, Event, Subject, Tracker
from footfall.tracker import unregister_tracker


def test_contexts_merge_and_unwind() -> None:
    sink = CaptureSink()
    t = Tracker([sink])
    with t.context("outer", {"a": 1, "shared": "outer"}):
        with t.context("inner", {"b": 2, "shared": "inner"}):
            t.emit("one")
        t.emit("two")
    t.emit("three")
    t.flush(5)
    ctx = {e.name: e.context for e in sink.events}
    assert ctx["one"] == {"a": 1, "b": 2, "shared": "inner"}
    assert ctx["two"] == {"a": 1, "shared": "outer"}
    assert ctx["three"] == {}


def test_context_unwinds_on_exception() -> None:
    sink = CaptureSink()
    t = Tracker([sink])
    with pytest.raises(RuntimeError), t.context("req", {"a": 1}):
        raise RuntimeError("boom")
    assert t.resolve_context() == {}


def test_enter_exit_context_and_field_keys() -> None:
    sink = CaptureSink()
    t = Tracker([sink])
    t.enter_context("req", {"user_id": "u1", "site": "s.com", "tenant": "acme"})
    t.enter_context("inner", {"x": 1})
    t.exit_context("req")  # exits by name even when not innermost
    assert t.resolve_context() == {"x": 1}
    t.exit_context("inner")
    t.exit_context("missing")  # no-op
    with t.context("req", {"user_id": "u1", "site": "s.com", "tenant": "acme"}):
        ev = t.emit("e")
        explicit = t.emit("e", user_id="u2")
    assert (ev.user_id, ev.site, ev.context) == ("u1", "s.com", {"tenant": "acme"})
    assert explicit.user_id == "u2"


def test_contexts_are_per_thread() -> None:
    t = Tracker([])
    seen: dict[str, dict[str, object]] = {}
    barrier = threading.Barrier(2)

    def work(name: str) -> None:
        with t.context("req", {"who": name}):
            barrier.wait(5)
            seen[name] = t.resolve_context()

    threads = [threading.Thread(target=work, args=(n,)) for n in ("a", "b")]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert seen == {"a": {"who": "a"}, "b": {"who": "b"}}
    assert t.resolve_context() == {}


def test_contexts_are_per_asyncio_task() -> None:
    t = Tracker([])

    async def work(name: str) -> dict[str, object]:
        with t.context("req", {"who": name}):
            await asyncio.sleep(0.01)
            return t.resolve_context()

    async def main() -> list[dict[str, object]]:
        return await asyncio.gather(work("a"), work("b"), work("c"))

    assert asyncio.run(main()) == [{"who": "a"}, {"who": "b"}, {"who": "c"}]


def test_processors_run_in_order_and_can_drop() -> None:
    sink = CaptureSink()
    order: list[str] = []

    def first(ev: Event) -> Event:
        order.append("first")
        ev.props["trail"] = ["first"]
        return ev

    def second(ev: Event) -> Event | None:
        order.append("second")
        ev.props["trail"].append("second")
        return None if ev.name == "drop-me" else ev

    def third(ev: Event) -> Event:
        if ev.name == "raise-drop":
            raise DropEvent
        ev.props["trail"].append("third")
        return ev

    t = Tracker([sink], [first, second, third])
    t.emit("keep")
    t.emit("drop-me")
    t.emit("raise-drop")
    t.flush(5)
    assert [e.name for e in sink.events] == ["keep"]
    assert sink.events[0].props["trail"] == ["first", "second", "third"]
    assert t.stats().filtered == 2


def test_broken_processor_keeps_event() -> None:
    sink = CaptureSink()

    def broken(ev: Event) -> Event:
        raise KeyError("bug")

    t = Tracker([sink], [broken])
    t.emit("e")
    t.flush(5)
    assert sink.names() == ["e"]


class FailingSink:
    def __init__(self) -> None:
        self.calls = 0

    def write(self, events: Sequence[Event]) -> None:
        self.calls += 1
        raise ConnectionError("down")

    def close(self) -> None:
        pass


def test_failing_sink_does_not_stop_others() -> None:
    good_before, good_after = CaptureSink(), CaptureSink()
    bad = FailingSink()
    failures: list[tuple[int, int]] = []
    t = Tracker(
        [good_before, bad, good_after],
        max_retries=2,
        on_failure=lambda n, failed: failures.append((n, len(failed))),
    )
    t.dispatcher.backoff_base = 0.001
    for i in range(5):
        t.emit("e", {"i": i})
    t.flush(10)
    assert len(good_before) == 5 and len(good_after) == 5
    assert bad.calls == 3  # first try + 2 retries
    stats = t.stats()
    assert (stats.failed, stats.retried, stats.delivered) == (5, 10, 0)
    assert failures == [(0, 5)]


def test_subject_per_tracker_and_per_call() -> None:
    sink = CaptureSink()
    t = Tracker([sink], subject=Subject(user_id="u1", platform="web", language="de"))
    a = t.emit("a")
    b = t.emit("b", subject=Subject(user_id="u2", screen="800x600"))
    c = t.emit("c", user_id="explicit")
    assert (a.user_id, a.platform, a.language) == ("u1", "web", "de")
    assert (b.user_id, b.screen, b.platform) == ("u2", "800x600", "")
    assert c.user_id == "explicit"


def test_registry_and_module_level_emit() -> None:
    assert unregister_tracker() is None or True
    nothing = footfall.emit("before-config", {"a": 1})  # the do-nothing default
    assert nothing.name == "before-config"
    sink = CaptureSink()
    t = Tracker([sink])
    footfall.register_tracker(t)
    try:
        assert footfall.get_tracker() is t
        footfall.emit("after", {"a": 1}, site="s")
        t.flush(5)
        assert sink.names() == ["after"]
    finally:
        unregister_tracker()
    assert footfall.get_tracker() is not t


def test_sinks_from_urls_and_stores(db_url: str) -> None:
    t = Tracker([db_url])
    t.emit("pageview", path="/")
    t.close()
    store = footfall.connect(db_url)
    assert [e.path for e in store.get_usage()] == ["/"]


def test_non_sink_is_refused() -> None:
    with pytest.raises(TypeError):
        Tracker([object()])


class _HintedSink(CaptureSink):
    """A capture sink that asks for batches of `hint` events."""

    def __init__(self, hint: int) -> None:
        super().__init__()
        self.preferred_batch_size = hint


def test_batch_size_follows_the_sinks_common_hint() -> None:
    from footfall.delivery.worker import DEFAULT_BATCH_SIZE

    def size(*sinks: object, **kwargs: int) -> int:
        tracker = Tracker(sinks, name="hint", **kwargs)
        try:
            return tracker.worker.batch_size
        finally:
            tracker.close(1)

    assert size(CaptureSink()) == DEFAULT_BATCH_SIZE
    assert size(_HintedSink(20_000)) == 20_000
    assert size(_HintedSink(20_000), _HintedSink(8_000)) == 8_000  # the smallest wish
    assert size(_HintedSink(20_000), CaptureSink()) == DEFAULT_BATCH_SIZE  # one without: default
    assert size(_HintedSink(10)) == DEFAULT_BATCH_SIZE  # a hint never shrinks batches
    assert size(_HintedSink(20_000), batch_size=300) == 300  # the caller's choice wins


def test_a_tracker_writing_a_store_enriches_and_one_sending_on_does_not(db_url: str) -> None:
    """The default chain runs once, where events enter a store: here, or at the other end."""
    writes = Tracker([db_url], name="writes")
    sends = Tracker([CaptureSink()], name="sends")
    plain = Tracker([db_url], [], name="plain")
    try:
        steps = [type(p).__name__ for p in writes.processors]
        assert {"UserAgentProcessor", "VisitorIdProcessor", "PrivacyProcessor"} <= set(steps)
        assert sends.processors == [] and plain.processors == []
        writes.emit("pageview", site="s.example", ip="81.2.69.142", user_agent="Firefox/1")
        writes.flush(30)
        [stored] = footfall.connect(db_url).get_usage()
        assert stored.visitor_id and stored.ip == ""  # hashed, then the IP dropped
    finally:
        for t in (writes, sends, plain):
            t.close()
