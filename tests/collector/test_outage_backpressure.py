"""A store that stops taking writes: the collector holds what it accepted, in a bounded queue.

The store is stopped for real: the test holds SQLite's write lock. Accepted
events wait in the collector's queue (`FOOTFALL_QUEUE_SIZE`); once it is
full, requests are refused with 503 and `Retry-After`, and when the store
takes writes again every accepted event is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.server.helpers import sqlite_write_locked

from footfall.collector.admission import RETRY_AFTER_SECONDS

from .conftest import SITE, Env

QUEUE = 100
PER_REQUEST = 60
TP2 = "/com.snowplowanalytics.snowplow/tp2"
ENVELOPE = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"


def post_api(env: Env, k: int) -> httpx.Response:
    events = [
        {"name": "pageview", "site": SITE, "url": f"https://{SITE}/{k}/{i}"}
        for i in range(PER_REQUEST)
    ]
    headers = {"authorization": f"Bearer {env.token}"}
    return env.client.post("/api/event", json={"events": events}, headers=headers)


def post_snowplow(env: Env, k: int) -> httpx.Response:
    events = [
        {"p": "web", "tv": "js-3.24.0", "aid": SITE, "e": "pv", "url": f"https://{SITE}/{k}/{i}"}
        for i in range(PER_REQUEST)
    ]
    return env.client.post(TP2, json={"schema": ENVELOPE, "data": events})


@pytest.mark.parametrize("post", [post_api, post_snowplow], ids=["api", "snowplow"])
def test_a_full_queue_while_the_store_is_locked_answers_503_with_retry_after(
    make_env: Callable[..., Env], post: Callable[[Env, int], httpx.Response]
) -> None:
    env = make_env(FOOTFALL_RATE_LIMIT="off", FOOTFALL_QUEUE_SIZE=str(QUEUE))
    path = Path(env.state.db_url.removeprefix("sqlite:///"))
    accepted = 0
    with sqlite_write_locked(path):
        for k in range(50):  # the queue fills within a few requests; bounded all the same
            r = post(env, k)
            if r.text == "ok":  # Snowplow's answer when every event was taken
                accepted += PER_REQUEST
                continue
            body: dict[str, Any] = r.json()
            accepted += body["accepted"]
            if r.status_code == 503:
                break
        assert r.status_code == 503, r.text
        assert r.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        assert {e["reason"] for e in body["errors"]} == {"server busy, queue full"}
        assert accepted >= QUEUE
    assert len(env.stored(site=SITE)) == accepted
