"""`footfall serve` keeps every event it answered 202 through a restart of Redis or PostgreSQL.

Each test runs a private server (never the shared ones), stops it while
events are being accepted, keeps it down for `OUTAGE` seconds, starts it
again and then counts: every accepted event must arrive, once. The outage is
short to keep the suite fast; nothing in the retry policy depends on its
length (see tests/test_delivery_outages.py for the policy itself).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from tests.private_servers import private_postgres, private_redis
from tests.server.helpers import post_events, serving, site_and_token, wait_for

from footfall import connect
from footfall.delivery.serialize import decode_batch

pytestmark = pytest.mark.slow  # a real server, a store held back for seconds

OUTAGE = 8.0  # seconds the server stays down
BATCH = 500  # events per request
STREAM = "footfall"


def stream_ids(client: Any) -> list[str]:
    """The ids of every event in the stream (a batch appended twice shows up twice)."""
    ids: list[str] = []
    for _, fields in client.xrange(STREAM, "-", "+"):
        fmt = fields[b"fmt"].decode()
        ids += [e.id for e in decode_batch(fields[b"events"], fmt)]
    return ids


def test_events_accepted_while_redis_is_down_reach_the_stream_once_it_is_back(
    tmp_path: Path,
) -> None:
    redis = pytest.importorskip("redis")
    url = f"sqlite:///{tmp_path / 'meta.db'}"
    token = site_and_token(url)
    with private_redis(tmp_path) as server_redis:
        client = redis.Redis.from_url(server_redis.url)
        args = ("--redis", server_redis.url, "--stream", STREAM)
        with serving(url, tmp_path / "serve.log", *args, FOOTFALL_CATCHUP_SECONDS="0") as server:
            accepted = post_events(server.base, token, 0, BATCH).body["accepted"]
            wait_for(lambda: len(stream_ids(client)) == accepted, "the first batch in Redis")
            server_redis.stop()
            for start in range(BATCH, 5 * BATCH, BATCH):
                answer = post_events(server.base, token, start, BATCH)
                assert answer.status == 202, answer.body
                accepted += answer.body["accepted"]
            time.sleep(OUTAGE)
            server_redis.start()
            client = redis.Redis.from_url(server_redis.url)
            wait_for(lambda: len(stream_ids(client)) >= accepted, "the held events in Redis")
            server.terminate()
            server.wait()
            log = server.output()
        ids = stream_ids(client)
        client.close()
    assert accepted == 5 * BATCH
    assert len(set(ids)) == accepted, log
    assert "gave up" not in log, log


def test_events_accepted_while_postgresql_is_down_are_stored_once_it_is_back(
    tmp_path: Path,
) -> None:
    pytest.importorskip("psycopg")
    with private_postgres() as pg:
        token = site_and_token(pg.url)
        with serving(pg.url, tmp_path / "serve.log", FOOTFALL_CATCHUP_SECONDS="0") as server:
            accepted = post_events(server.base, token, 0, BATCH).body["accepted"]
            store = connect(pg.url)
            wait_for(lambda: store.count() == accepted, "the first batch in PostgreSQL")
            store.close()
            pg.stop()
            for start in range(BATCH, 5 * BATCH, BATCH):
                answer = post_events(server.base, token, start, BATCH)
                assert answer.status == 202, answer.body
                accepted += answer.body["accepted"]
            time.sleep(OUTAGE)
            pg.start()
            store = connect(pg.url)
            try:
                wait_for(lambda: store.count() >= accepted, "the held events in PostgreSQL")
                server.terminate()
                server.wait()
                log = server.output()
                stored = store.count()
            finally:
                store.close()
    assert accepted == 5 * BATCH
    assert stored == accepted, log
    assert "gave up" not in log, log
