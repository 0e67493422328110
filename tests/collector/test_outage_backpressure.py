"""A store that stops taking writes: the collector holds what it accepted, in a bounded queue.

The store is stopped for real: the test holds SQLite's write lock. Accepted
events wait in the collector's queue (`FOOTFALL_QUEUE_SIZE`); once it is
full, requests are refused with 503 and `Retry-After`, and when the store
takes writes again every accepted event is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.server.helpers import sqlite_write_locked

from footfall.collector.admission import RETRY_AFTER_SECONDS

from .conftest import SITE, Env

QUEUE = 100
PER_REQUEST = 60


def test_a_full_queue_while_the_store_is_locked_answers_503_with_retry_after(
    make_env: Callable[..., Env],
) -> None:
    env = make_env(FOOTFALL_RATE_LIMIT="off", FOOTFALL_QUEUE_SIZE=str(QUEUE))
    path = Path(env.state.db_url.removeprefix("sqlite:///"))
    events = [
        {"name": "pageview", "site": SITE, "url": f"https://{SITE}/{i}"} for i in range(PER_REQUEST)
    ]
    accepted = 0
    with sqlite_write_locked(path):
        for _ in range(50):  # the queue fills within a few requests; bounded all the same
            r = env.client.post(
                "/api/event",
                json={"events": events},
                headers={"authorization": f"Bearer {env.token}"},
            )
            accepted += r.json()["accepted"]
            if r.status_code == 503:
                break
        assert r.status_code == 503, r.text
        assert r.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        assert {e["reason"] for e in r.json()["errors"]} == {"server busy, queue full"}
        assert accepted >= QUEUE
    assert len(env.stored(site=SITE)) == accepted
