"""A full write queue: the rest of a batch is refused with 503 without being parsed."""

from __future__ import annotations

from footfall.tracker import Tracker

from .conftest import SITE, Env, GatedSink


def test_full_queue_refuses_the_rest_with_503(env: Env) -> None:
    sink = GatedSink()
    env.collector.tracker = Tracker([sink], [], queue_size=30, batch_size=5)
    try:
        events = [
            {"name": "pageview", "site": SITE, "url": f"https://{SITE}/{i}"} for i in range(100)
        ]
        events[3] = {"name": 5}  # a bad event before the queue fills is still reported as such
        r = env.client.post(
            "/api/event",
            json={"events": events},
            headers={"authorization": f"Bearer {env.token}"},
        )
        body = r.json()
        assert r.status_code == 202, r.text
        assert 0 < body["accepted"] < 99
        assert body["accepted"] + body["rejected"] == 100
        errors = body["errors"]
        assert [e["index"] for e in errors] == sorted({e["index"] for e in errors})
        assert errors[0]["index"] == 3 and errors[0]["field"] == "name"
        assert all(e["reason"] == "server busy, queue full" for e in errors[1:])
        assert errors[-1]["index"] == 99
    finally:
        sink.open.set()
        env.collector.tracker.close(timeout=10)
    assert len(sink.got) == body["accepted"]  # what was accepted is delivered
