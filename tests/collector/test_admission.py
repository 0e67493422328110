"""Admission control: a deep delivery queue holds ingest requests instead of refusing them."""

from __future__ import annotations

import threading
from collections.abc import Callable

from footfall.collector.admission import Admission
from footfall.collector.config import CollectorConfig
from footfall.tracker import Tracker

from .conftest import SITE, Env, GatedSink


def _batch(n: int, tag: str) -> dict[str, list[dict[str, str]]]:
    return {
        "events": [
            {"name": "pageview", "site": SITE, "url": f"https://{SITE}/{tag}/{i}"} for i in range(n)
        ]
    }


def _gated(env: Env, depth: int, wait: float) -> GatedSink:
    gate = GatedSink()
    env.collector.tracker = Tracker([gate], [], queue_size=1_000, batch_size=10)
    env.collector.admission = Admission(depth, wait)
    return gate


def test_a_request_waits_for_room_and_is_accepted(env: Env) -> None:
    gate = _gated(env, depth=20, wait=30)
    auth = {"authorization": f"Bearer {env.token}"}
    try:
        first = env.client.post("/api/event", json=_batch(50, "a"), headers=auth)
        assert first.status_code == 202 and first.json()["accepted"] == 50
        # The queue is 40+ deep behind the gate: the next request is held until it opens.
        threading.Timer(0.3, gate.open.set).start()
        second = env.client.post("/api/event", json=_batch(50, "b"), headers=auth)
        assert second.status_code == 202, second.text
        assert second.json()["accepted"] == 50
        assert env.collector.admission.held == 1
        assert env.collector.admission.timed_out == 0
        assert gate.open.is_set()  # it could only have gone on after the gate opened
    finally:
        gate.open.set()
        env.collector.tracker.close(timeout=10)
    assert len(gate.got) == 100


def test_the_wait_is_bounded_and_a_full_queue_still_refuses(env: Env) -> None:
    gate = GatedSink()
    env.collector.tracker = Tracker([gate], [], queue_size=60, batch_size=10)
    env.collector.admission = Admission(depth=5, wait=0.2)
    auth = {"authorization": f"Bearer {env.token}"}
    try:
        first = env.client.post("/api/event", json=_batch(100, "a"), headers=auth)
        assert first.status_code == 202
        accepted = first.json()["accepted"]
        assert 0 < accepted < 100  # the queue filled part way
        # Let through after 0.2 s with the queue still (nearly) full: what does not fit
        # is refused as before, and counted.
        second = env.client.post("/api/event", json=_batch(100, "b"), headers=auth)
        assert second.status_code in (202, 503), second.text
        refused = [e for e in second.json()["errors"] if e["reason"] == "server busy, queue full"]
        assert refused and len(refused) + second.json()["accepted"] == 100
        accepted += second.json().get("accepted", 0)
        assert env.collector.admission.held == 1
        assert env.collector.admission.timed_out == 1
    finally:
        gate.open.set()
        env.collector.tracker.close(timeout=10)
    assert len(gate.got) == accepted


def test_pixel_and_snowplow_requests_are_held_too(env: Env) -> None:
    gate = _gated(env, depth=0, wait=30)
    auth = {"authorization": f"Bearer {env.token}"}
    sends: list[Callable[[], int]] = [
        lambda: env.client.get(f"/api/event.gif?site={SITE}&url=https://{SITE}/px").status_code,
        lambda: (
            env.client.get(
                "/i",
                params={
                    "e": "pv",
                    "url": f"https://{SITE}/sp",
                    "aid": SITE,
                    "p": "web",
                    "tv": "py-1.0.0",
                },
            ).status_code
        ),
    ]
    try:
        assert env.client.post("/api/event", json=_batch(1, "a"), headers=auth).status_code == 202
        for n, send in enumerate(sends, start=1):
            threading.Timer(0.2, gate.open.set).start()
            assert send() == 200
            assert env.collector.admission.held == n
            gate.open.clear()
    finally:
        gate.open.set()
        env.collector.tracker.close(timeout=10)
    assert len(gate.got) == 3


def test_settings_come_from_the_environment() -> None:
    config = CollectorConfig.from_env({"FOOTFALL_ADMIT_DEPTH": "500", "FOOTFALL_ADMIT_WAIT": "0"})
    assert (config.admit_depth, config.admit_wait) == (500, 0.0)
    default = CollectorConfig.from_env({})
    assert default.admit_depth == 10_000 and default.admit_wait == 5.0


def test_wait_zero_never_holds() -> None:
    class Deep:
        depth = 10**9

    class Full:
        worker = Deep()

    assert Admission(depth=1, wait=0).ready(Full())
    assert not Admission(depth=1, wait=1).ready(Full())
    assert Admission(depth=1, wait=1).ready(object())  # no worker: nothing to wait for


def test_a_new_event_loop_gets_its_own_wake_up() -> None:
    import asyncio
    import contextlib

    class Worker:
        depth = 100

    class Tracker_:
        worker = Worker()

    admission = Admission(depth=10, wait=5)
    tracker = Tracker_()
    # A loop closed while a request was held leaves its poller (and event) behind.
    first = asyncio.new_event_loop()
    with contextlib.suppress(asyncio.TimeoutError):
        first.run_until_complete(asyncio.wait_for(admission(tracker), 0.05))
    first.close()

    async def held_then_freed() -> None:
        async def free() -> None:
            await asyncio.sleep(0.05)
            tracker.worker.depth = 0

        task = asyncio.get_running_loop().create_task(free())
        await admission(tracker)  # must not wait on the closed loop's event
        await task

    asyncio.run(held_then_freed())
    assert admission.held == 2 and admission.timed_out == 0


def test_requests_wait_only_beyond_two_of_the_trackers_batches(env: Env) -> None:
    """A tracker batching more than the admission depth (a store's hint) moves the depth up."""
    import dataclasses

    from footfall.collector.ingest import Collector

    class Hinted(GatedSink):
        preferred_batch_size = 40_000

    default = CollectorConfig.from_env({})
    for sink, depth in ((Hinted(), 80_000), (GatedSink(), default.admit_depth)):
        tracker = Tracker([sink], [], name="admission-depth")
        collector = Collector(dataclasses.replace(env.state, tracker=tracker), default)
        try:
            assert collector.admission.depth == depth
        finally:
            collector.close()
            tracker.close(timeout=10)
