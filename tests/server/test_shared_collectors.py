"""Two collector processes agree on who a visitor is and which visit it is in.

Cookieless visitor ids hash the day's salt, and visits hang on the open-visit
state: both are kept in the metadata store (`--meta`), so a visitor whose
requests alternate between two `footfall serve` processes gets one visitor id
and one visit. The collector enriches (its processors run before it stores or
appends to the Redis Stream); `footfall worker` only stores. Two layouts, both
with events in ClickHouse and metadata in PostgreSQL:

- two collectors writing straight to the store;
- two collectors with `--redis`, and two workers storing from the stream.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tests.faults import procs
from tests.server.helpers import serving, wait_for
from tests.services import REDIS_URL, need_redis
from tests.stores.backends import clickhouse_store, postgres_store

from footfall.cli import main
from footfall.stores import EventFilter

SITE = "shared.example"
AGENTS = [  # one visitor each (the collectors all see 127.0.0.1)
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
]
REQUESTS = 4  # per visitor, alternating between the collectors


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    ch = clickhouse_store(tmp_path / "ch")
    pg = postgres_store(tmp_path / "pg")
    result = CliRunner().invoke(main, ["sites", "add", SITE, "--db", ch.url, "--meta", pg.url])
    assert result.exit_code == 0, result.output
    yield ch, pg
    ch.close()
    pg.close()


def _pageview(base: str, agent: str, path: str) -> None:
    body = json.dumps({"name": "pageview", "url": f"https://{SITE}{path}", "domain": SITE})
    request = urllib.request.Request(
        f"{base}/api/event",
        data=body.encode(),
        headers={"Content-Type": "application/json", "User-Agent": agent},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as r:
        assert r.status == 202


def _alternate(bases: list[str], events: Any) -> None:
    """Each visitor's requests go to one collector, then the other, ...; each is
    stored before the next is sent, so the second collector must find the
    first one's salt and open visit in the metadata store."""
    sent = 0
    for step in range(REQUESTS):
        for i, agent in enumerate(AGENTS):
            _pageview(bases[(step + i) % len(bases)], agent, f"/page{step}")
            sent += 1
            wait_for(lambda n=sent: events.count(filters=EventFilter(site=SITE)) >= n, "storage")


def _one_visitor_one_visit(events: Any) -> None:
    stored = events.get_usage(limit=1000, filters=EventFilter(site=SITE))
    assert len(stored) == len(AGENTS) * REQUESTS
    by_browser: dict[str, set[tuple[str, str]]] = {}
    for event in stored:
        by_browser.setdefault(event.browser, set()).add((event.visitor_id, event.visit_id))
    assert len(by_browser) == len(AGENTS)
    for browser, ids in by_browser.items():
        assert len(ids) == 1, f"{browser}: {ids}"
        ((visitor, visit),) = ids
        assert visitor and visit
    assert len({next(iter(ids))[0] for ids in by_browser.values()}) == len(AGENTS)


def test_two_collectors_writing_to_the_store(tmp_path: Path, stores: tuple[Any, Any]) -> None:
    ch, pg = stores
    with ExitStack() as running:
        bases = [
            running.enter_context(serving(ch.url, tmp_path / f"c{n}.log", "--meta", pg.url)).base
            for n in range(2)
        ]
        _alternate(bases, ch)
    _one_visitor_one_visit(ch)


def test_two_collectors_with_redis_and_two_workers(tmp_path: Path, stores: tuple[Any, Any]) -> None:
    need_redis()
    ch, pg = stores
    stream = f"ff-shared-{uuid.uuid4().hex[:8]}"
    flags = ("--meta", pg.url, "--redis", REDIS_URL, "--stream", stream)
    workers = [
        procs.worker(
            REDIS_URL, stream, ch.url, f"w{n}", tmp_path / f"w{n}.log", "--block-ms", "200"
        )
        for n in range(2)
    ]
    try:
        with ExitStack() as running:
            bases = [
                running.enter_context(serving(ch.url, tmp_path / f"c{n}.log", *flags)).base
                for n in range(2)
            ]
            _alternate(bases, ch)
    finally:
        for w in workers:
            procs.stop(w)
        import redis

        redis.Redis.from_url(REDIS_URL).delete(stream)
    _one_visitor_one_visit(ch)
