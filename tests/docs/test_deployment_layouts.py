"""Layouts 1 and 2 of docs/deployment.md, followed step by step as printed.

Each step is a block marked `doc-step: layoutN/STEP` on the page; the test
reads it from there and runs it in a temporary folder with the layout's
settings (FOOTFALL_DB, ports, URLs) set to its own values: layout 1 on a
SQLite file, layout 2 on the shared PostgreSQL in a schema of its own and
the shared RabbitMQ. Between the steps it checks what the page promises:
the app's events reach the store the server reads, an `HttpSink` app rides
out a 20 s collector outage in its spool and the spool is replayed, the
Celery worker stores what a `CelerySink` sends, and the cron job deletes
old events without a prompt.
"""

from __future__ import annotations

import signal
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.docs.doc_blocks import steps
from tests.docs.doc_steps import Shell, answers, wait_until
from tests.private_servers import free_port
from tests.services import need_rabbitmq, postgres_schema

from footfall import connect
from footfall.stores import EventFilter
from footfall.stores.base import Store

pytestmark = pytest.mark.slow

SITE = "example.com"
OUTAGE = 20.0  # seconds the collector is down in layout 2
WAIT = 60.0  # seconds: the bound of every wait for events to arrive
# A service stopped with SIGTERM exits 0, or ends by the signal after a clean
# shutdown (uvicorn re-raises it; systemd counts both as a clean stop).
STOPPED = (0, -signal.SIGTERM)


def count(store: Store, name: str) -> int:
    return store.count(filters=EventFilter(site=SITE, name=name))


@pytest.fixture
def shell_cleanup() -> Iterator[list[Shell]]:
    shells: list[Shell] = []
    yield shells
    for shell in shells:
        shell.close()


def test_layout_1_one_box(tmp_path: Path, shell_cleanup: list[Shell]) -> None:
    layout = steps("layout1")
    assert list(layout) == ["settings", "demo", "serve", "app"]
    port = free_port()
    db = f"sqlite:///{tmp_path / 'var' / 'footfall.db'}"
    (tmp_path / "var").mkdir()
    shell = Shell(tmp_path, layout["settings"], {"FOOTFALL_DB": db, "STATS_PORT": str(port)})
    shell_cleanup.append(shell)

    shell.run(layout["demo"])
    serve = shell.start(layout["serve"], lambda: answers(f"http://127.0.0.1:{port}/health"))
    app = shell.app(layout["app"])
    app.emit("doc.one_box", 25)
    assert app.flush(timeout=30)
    assert app.close() == 0

    store = connect(db)
    try:
        assert count(store, "doc.one_box") == 25  # the app wrote where the server reads
        assert store.count() > 1000  # ... and where the demo wrote
    finally:
        store.close()
    assert answers(f"http://127.0.0.1:{port}/health")
    assert serve.stop() in STOPPED
    assert not (tmp_path / "footfall.db").exists()  # no command fell back to ./footfall.db


def test_layout_2_app_collector_postgresql(tmp_path: Path, shell_cleanup: list[Shell]) -> None:
    layout = steps("layout2")
    assert list(layout) == [
        "settings",
        "migrate",
        "serve",
        "sites",
        "token",
        "app",
        "celery-worker",
        "celery-app",
        "purge-cron",
    ]
    broker = need_rabbitmq()
    with postgres_schema("ff_docs") as db:
        port = free_port()
        values = {
            "FOOTFALL_DB": db,
            "STATS_PORT": str(port),
            "STATS_URL": f"http://127.0.0.1:{port}",
            "SPOOL_DIR": str(tmp_path / "spool"),
            "FOOTFALL_CELERY_BROKER": broker,
            "FOOTFALL_CELERY_QUEUE": f"footfall-docs-{uuid.uuid4().hex[:10]}",
        }
        shell = Shell(tmp_path, layout["settings"], values)
        shell_cleanup.append(shell)
        health = f"http://127.0.0.1:{port}/health"
        store = connect(db)
        try:
            shell.run(layout["migrate"])
            serve = shell.start(layout["serve"], lambda: answers(health))
            shell.run(layout["sites"])
            shell.run(layout["token"])

            app = shell.app(layout["app"])
            app.emit("doc.before", 50)
            assert app.flush(timeout=30)  # the collector has them; its worker stores them
            wait_until(lambda: count(store, "doc.before") == 50, WAIT, "the collector to store")

            # The collector goes away for OUTAGE seconds; the app goes on emitting.
            assert serve.stop() in STOPPED
            down = time.monotonic()
            for _ in range(4):
                app.emit("doc.during", 10)
                time.sleep(OUTAGE / 5)
            app.emit("doc.during", 10)
            assert not app.flush(timeout=1)  # held in the spool is not delivered
            assert app.call("stats")["spooled"] > 0
            time.sleep(max(0.0, OUTAGE - (time.monotonic() - down)))
            assert count(store, "doc.during") == 0

            # Back, by the documented command: the same process replays its spool.
            serve = shell.start(layout["serve"], lambda: answers(health))
            wait_until(lambda: count(store, "doc.during") == 50, WAIT, "the spool's replay")
            assert app.flush(timeout=30)
            stats = app.call("stats")
            assert (stats["delivered"], stats["spooled"], stats["failed"]) == (100, 0, 0)
            assert app.close() == 0
            spooled = [p.name for p in (tmp_path / "spool").rglob("*") if p.is_file()]
            assert [name for name in spooled if not name.startswith(".")] == []  # a lock file stays

            # Tasks wait in the queue until the worker takes them: no need to wait for it.
            worker = shell.start(layout["celery-worker"], lambda: True)
            sender = shell.app(layout["celery-app"])
            sender.emit("doc.celery", 30)
            assert sender.flush(timeout=30)
            wait_until(lambda: count(store, "doc.celery") == 30, WAIT, "the Celery worker")
            assert sender.close() == 0
            assert worker.stop() in STOPPED

            # An event from long ago, then the cron job's retention.
            old = shell.app(layout["app"])
            old.emit("doc.old", 5, days_ago=500)
            assert old.flush(timeout=30)
            assert old.close() == 0
            wait_until(lambda: count(store, "doc.old") == 5, WAIT, "the collector to store")
            bin_path = ":".join([str(Path(sys.executable).parent), "/usr/bin", "/bin"])
            shell.run_crontab(layout["purge-cron"], {"PATH": bin_path, "FOOTFALL_DB": db})
            assert count(store, "doc.old") == 0
            assert count(store, "doc.before") == 50
            assert serve.stop(signal.SIGTERM) in STOPPED
        finally:
            store.close()
            shell.close()
