"""Every Python block of README.md and docs/ runs as a test, as it is printed.

A pytest plugin (named by the repository's root conftest.py): the blocks are
collected and run by pytest-markdown-docs, one test per block, each in a
sandbox of its own (`doc_sandbox`): a temporary working folder, so
`sqlite:///./footfall.db` is a fresh file there, and `FOOTFALL_DB` naming a
SQLite file in it. Trackers a block starts are flushed and closed afterwards,
and the registered one is restored.

A block may ask for more with pytest-markdown-docs' info-string options,
which the rendered page does not show: `fixture:NAME` (one of the fixtures
below, bound to the global NAME) and `continuation` (it runs after the block
before it). Blocks marked `doc-step` or `not run` (tests/docs/doc_blocks.py)
are left to their walk-through test, or not run, with the reason on the page.

    pytest README.md docs/                # just the docs
    pytest docs/deployment.md             # one page
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_markdown_docs.plugin import MarkdownTextFile
from tests.docs.doc_blocks import blocks_of, is_doc_page
from tests.services import need_redis

from footfall import Event, connect
from footfall.delivery.redis_sink import RedisSink, redis_client
from footfall.delivery.worker import live_workers
from footfall.tracker import _registry

SITE = "example.com"


class DocPage(MarkdownTextFile):
    """A page's Python blocks, less those a marker hands to a walk-through or leaves out."""

    def collect(self) -> Iterator[Any]:
        marked = {b.line for b in blocks_of(self.path) if b.is_python and b.marker}
        for item in super().collect():  # type: ignore[no-untyped-call]  # the library is untyped
            if item.start_line not in marked:
                item.add_marker(pytest.mark.usefixtures("doc_sandbox"))
                yield item


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> DocPage | None:
    if is_doc_page(file_path):
        return DocPage.from_parent(parent, path=file_path)
    return None


@pytest.fixture
def doc_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder of its own for one block; the trackers it starts closed afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FOOTFALL_DB", f"sqlite:///{tmp_path / 'footfall.db'}")
    monkeypatch.setenv("FOOTFALL_NO_SIGNALS", "1")  # pytest keeps SIGTERM
    registered = dict(_registry)
    running = set(live_workers())
    yield tmp_path
    for tracker in set(_registry.values()) - set(registered.values()):
        tracker.close(timeout=10)
    for worker in set(live_workers()) - running:
        worker.close(timeout=10)
    _registry.clear()
    _registry.update(registered)


@pytest.fixture
def app() -> Any:
    """`app` in a block that wraps your WSGI app: a page that says hello."""

    def hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [b"<!doctype html><h1>Hello</h1>"]

    return hello


@pytest.fixture
def storage() -> Callable[[dict[str, Any]], None]:
    """`storage` in a block about Flask-Track-Usage: any callable it gave its records to."""
    records: list[dict[str, Any]] = []
    return records.append


@pytest.fixture
def footfall_redis(doc_sandbox: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Event]:
    """`FOOTFALL_REDIS` and a `FOOTFALL_STREAM` of its own, holding one event.

    After the block, that event must be in the sandbox's store: a block that
    runs a worker over the stream has stored it.
    """
    url = need_redis()
    stream = f"ff-docs-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("FOOTFALL_REDIS", url)
    monkeypatch.setenv("FOOTFALL_STREAM", stream)
    event = Event(name="signup", site=SITE, user_id="42")
    sink = RedisSink(url, stream=stream)
    sink.write([event])
    sink.close()
    yield event
    client = redis_client(url)
    try:
        client.delete(stream, f"{stream}:dead")
    finally:
        client.close()
    store = connect(f"sqlite:///{doc_sandbox / 'footfall.db'}")
    try:
        assert [e.id for e in store.get_usage()] == [event.id], "the block left the event unstored"
    finally:
        store.close()
