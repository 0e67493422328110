"""HttpSink against the real collector when it refuses: a full queue, redirects, attempts.

The collector is footfall's own ASGI app under uvicorn on a free port. Its
delivery queue is made small and its SQLite file is locked by another
writer (a real busy database), so its worker stalls and the queue fills:
the collector then answers 202 listing the events it could not queue as
per-event 503s, or 503 for a request it could not take at all. Redirects
come from a real HTTP server on 127.0.0.1 that points to a second one,
which records every request it gets and its Authorization header.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from collector.live_server import LiveServer, start_server
from footfall import connect
from footfall.delivery.http_reply import body_events
from footfall.delivery.http_sink import DEFAULT_RETRIES, HttpSink, HttpSinkError
from footfall.delivery.serialize import http_body
from footfall.delivery.sinks import StoreSink
from footfall.delivery.spool import Spool
from footfall.event import Event
from footfall.sites import create_token
from footfall.stores.base import Store
from footfall.tracker import Tracker
from transports.helpers import make_events, wait_for
from transports.http_app import Collector, free_port, serve

QUEUE = 10  # the busy collector's delivery queue, in events
TOKEN = "s3cret-token"


class DatabaseLock:
    """Another writer holding the SQLite file: the collector's worker waits on it."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        self.conn.execute("BEGIN EXCLUSIVE")
        self.held = True

    def release(self) -> None:
        if self.held:
            self.conn.execute("ROLLBACK")
            self.conn.close()
            self.held = False


@dataclass
class Busy:
    """A real collector whose queue holds QUEUE events, and its locked database."""

    live: LiveServer
    tracker: Tracker  # the collector's delivery side
    token: str
    db_path: Path
    lock: DatabaseLock | None = None

    @property
    def refused(self) -> int:
        """Events the collector tried to queue and could not (answered 503 for them).

        Once one is refused, the collector refuses the rest of that request
        unparsed (also 503), without counting them here.
        """
        return self.tracker.worker.dropped

    @property
    def accepted(self) -> int:
        """Events the collector queued."""
        return self.tracker.stats().enqueued

    def stored(self) -> set[str]:
        store = connect(self.live.db_url)
        try:
            return {e.id for e in store.get_usage(limit=10_000)}
        finally:
            store.close()

    def stall(self) -> DatabaseLock:
        self.lock = DatabaseLock(self.db_path)
        return self.lock

    def fill(self) -> None:
        """Stall the worker and fill its queue: every request is then refused."""
        self.stall()
        filler = HttpSink(self.live.url, self.token, retries=0)

        def full() -> bool:
            try:  # the first request may only fill what the stalled worker leaves free
                filler.write(make_events(2 * QUEUE))
            except HttpSinkError:
                pass
            worker = self.tracker.worker
            # Full, with a batch in the stalled worker's hands: it will take no more.
            return worker.depth >= QUEUE and worker.pending > worker.depth

        wait_for(full, what="a full collector queue")


@pytest.fixture
def busy(tmp_path: Path) -> Iterator[Busy]:
    db_path = tmp_path / "collector.db"
    db_url = f"sqlite:///{db_path}"
    setup = connect(db_url)
    _, token = create_token(setup, "sender")  # before the start: the server loads it
    setup.close()
    live = start_server(db_url)
    tracker = Tracker(
        [StoreSink(connect(db_url))], queue_size=QUEUE, batch_size=5, flush_interval=0.05
    )
    live.collector.tracker = tracker
    running = Busy(live, tracker, token, db_path)
    try:
        yield running
    finally:
        if running.lock is not None:
            running.lock.release()
        tracker.close(timeout=30)
        live.stop()


def test_events_refused_as_busy_are_sent_again_and_only_those(busy: Busy) -> None:
    events = make_events(30)
    sink = HttpSink(busy.live.url, busy.token, retries=8)
    errors: list[BaseException] = []

    def send() -> None:
        try:
            sink.write(events)
        except BaseException as exc:
            errors.append(exc)

    lock = busy.stall()
    sender = threading.Thread(target=send)
    sender.start()
    wait_for(lambda: busy.refused > 0, what="the collector to refuse events as busy")
    lock.release()  # the database frees up, the queue drains
    sender.join(60)
    assert not sender.is_alive() and errors == []
    assert busy.tracker.flush(30)
    assert busy.stored() == {e.id for e in events}
    # Each event was queued once: what the collector had taken was not sent again.
    assert busy.accepted == len(events)


def test_with_a_spool_only_the_busy_events_are_spooled_then_replayed(
    busy: Busy, tmp_path: Path
) -> None:
    events = make_events(30)
    sink = HttpSink(
        busy.live.url, busy.token, retries=0, spool=tmp_path / "spool", replay_max_interval=0.5
    )
    lock = busy.stall()
    try:
        sink.write(events)  # no error: what the collector did not take is held on disk
        assert sink.spool is not None
        spooled = {
            json.loads(bytes(raw))["id"]
            for path in sink.spool.files()
            for raw in body_events(path.read_bytes()) or []
        }
        assert spooled and len(spooled) + busy.accepted == len(events)
    finally:
        lock.release()
    wait_for(lambda: not sink.spool, what="the spool to drain")
    sink.close()
    assert busy.tracker.flush(30)
    assert busy.stored() == {e.id for e in events}
    assert busy.accepted == len(events)  # each event was queued once: no duplicate was sent


def test_events_not_taken_reach_on_failure_and_only_those(busy: Busy) -> None:
    reported: list[Event] = []
    sender = Tracker(
        [HttpSink(busy.live.url, busy.token, retries=0)],
        on_failure=lambda delivered, failed: reported.extend(failed),
        batch_size=100,
        flush_interval=30,  # one batch, sent by flush(): one request, partly taken
    )
    lock = busy.stall()
    try:
        bad = sender.emit("pageview", site="unknown.example", path="/x")  # refused for good
        sent = [sender.emit("pageview", site="example.com", path=f"/{i}") for i in range(30)]
        assert sender.flush(30)
    finally:
        lock.release()
    sender.close()
    assert busy.tracker.flush(30)
    failed = {e.id for e in reported}
    assert bad.id in failed and len(failed) == len(sent) + 1 - busy.accepted > 1
    assert busy.stored() == {e.id for e in sent} - failed
    stats = sender.stats()
    assert stats.failed == len(failed) and stats.delivered == len(sent) + 1 - len(failed)


@pytest.mark.parametrize("retries", [0, 1])
def test_a_request_is_tried_one_plus_retries_times_whatever_the_tracker_allows(
    busy: Busy, retries: int
) -> None:
    busy.fill()  # every request is now answered 503 (with Retry-After: 5)
    before = busy.refused
    reported: list[Event] = []
    sender = Tracker(
        [HttpSink(busy.live.url, busy.token, retries=retries)],
        on_failure=lambda delivered, failed: reported.extend(failed),
        max_retries=4,
        batch_size=100,
        flush_interval=30,  # one batch, sent by flush()
    )
    events = [sender.emit("pageview", site="example.com", path=f"/{i}") for i in range(5)]
    assert sender.flush(60)
    sender.close()
    # The collector saw each attempt: 1 + retries, not (1 + retries) * (1 + max_retries).
    assert busy.refused - before == len(events) * (1 + retries)
    assert {e.id for e in reported} == {e.id for e in events}
    assert sender.stats().retried == 0  # the dispatcher did not send the batch again


def test_by_default_a_request_is_tried_four_times(sqlite_store: Store) -> None:
    collector = Collector(sqlite_store, TOKEN, script=[(503, {})] * 20)
    running = serve(collector, free_port())
    reported: list[Event] = []
    try:
        sender = Tracker(
            [HttpSink(running.url, TOKEN)],
            on_failure=lambda delivered, failed: reported.extend(failed),
            batch_size=100,
            flush_interval=30,
        )
        events = [sender.emit("pageview", site="example.com", path=f"/{i}") for i in range(5)]
        assert sender.flush(60)
        sender.close()
    finally:
        running.stop()
    assert len(collector.requests) == DEFAULT_RETRIES + 1 == 4
    assert {e.id for e in reported} == {e.id for e in events}


# -- redirects ------------------------------------------------------------------------
@dataclass
class Recorder:
    """A real HTTP server on 127.0.0.1: records requests, answers `status` (+ Location)."""

    status: int = 202
    location: str = ""
    seen: list[tuple[str, str, str | None]] = field(default_factory=list)  # method, path, auth
    server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.server_address[1])

    def start(self) -> Recorder:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                recorder.seen.append((self.command, self.path, self.headers.get("Authorization")))
                body = b'{"accepted": 1, "rejected": 0}'
                self.send_response(recorder.status)
                if recorder.location:
                    self.send_header("Location", recorder.location)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def target() -> Iterator[Recorder]:
    server = Recorder().start()
    yield server
    server.stop()


@pytest.fixture
def redirector(target: Recorder) -> Iterator[Recorder]:
    # Another host name for the same machine: a redirect that changes host.
    server = Recorder(location=f"http://localhost:{target.port}/api/event").start()
    yield server
    server.stop()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_refused_reported_and_the_token_stays_home(
    redirector: Recorder, target: Recorder, status: int
) -> None:
    redirector.status = status
    reported: list[Event] = []
    sender = Tracker(
        [HttpSink(f"http://127.0.0.1:{redirector.port}", TOKEN)],
        on_failure=lambda delivered, failed: reported.extend(failed),
        flush_interval=0.05,
    )
    events = [sender.emit("pageview", site="example.com", path=f"/{i}") for i in range(3)]
    assert sender.flush(30)
    sender.close()
    assert target.seen == []  # nothing followed the redirect, with or without the token
    assert [(m, a) for m, _, a in redirector.seen] == [("POST", f"Bearer {TOKEN}")]  # once
    assert {e.id for e in reported} == {e.id for e in events}


def test_a_same_host_redirect_is_refused_too(redirector: Recorder) -> None:
    redirector.status, redirector.location = 302, "/elsewhere"
    sink = HttpSink(f"http://127.0.0.1:{redirector.port}", TOKEN)
    with pytest.raises(HttpSinkError) as info:
        sink.write(make_events(2))
    assert [(m, p) for m, p, _ in redirector.seen] == [("POST", "/api/event")]  # not followed
    assert info.value.status == 302 and "redirect" in str(info.value)


def test_a_spooled_batch_answered_with_a_redirect_is_set_aside_unfollowed(
    redirector: Recorder, target: Recorder, tmp_path: Path
) -> None:
    redirector.status = 301
    Spool(tmp_path / "spool").append(http_body(make_events(4)))
    sink = HttpSink(f"http://127.0.0.1:{redirector.port}", TOKEN, spool=tmp_path / "spool")
    wait_for(lambda: not sink.spool, what="the batch to be set aside")
    sink.close()
    assert target.seen == [] and sink.rejected == 1
    [reason] = (tmp_path / "spool" / "rejected").glob("*.reason")
    assert "redirect" in reason.read_text()
