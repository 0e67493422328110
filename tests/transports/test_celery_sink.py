"""CelerySink with a real Celery worker process on the local RabbitMQ (and Redis) broker."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from footfall import connect
from footfall.delivery.celery_sink import TASK_NAME, CelerySink, register_tasks, store_batch
from footfall.delivery.serialize import encode_batch
from footfall.event import Event
from footfall.tracker import Tracker
from services import need_rabbitmq, need_redis
from transports.helpers import WAIT, make_events, wait_for

celery = pytest.importorskip("celery")

BROKERS = {"rabbitmq": need_rabbitmq, "redis": need_redis}


@pytest.fixture(params=sorted(BROKERS))
def broker(request: pytest.FixtureRequest) -> str:
    return BROKERS[request.param]()


@pytest.fixture
def queue(broker: str) -> Iterator[str]:
    name = f"footfall-test-{uuid.uuid4().hex[:10]}"
    yield name
    app = celery.Celery("cleanup", broker=broker)
    try:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(name)
            client = getattr(conn.default_channel, "client", None)
            if client is not None:  # kombu's Redis transport keeps the bindings
                client.delete(f"_kombu.binding.{name}", f"_kombu.binding_permanent.{name}")
    except Exception:  # the queue may never have been declared
        pass


@pytest.fixture
def celery_worker(broker: str, queue: str, db_url: str, tmp_path: Path) -> Iterator[Any]:
    env = dict(
        os.environ,
        FOOTFALL_CELERY_BROKER=broker,
        FOOTFALL_CELERY_QUEUE=queue,
        FOOTFALL_DB=db_url,
    )
    log = (tmp_path / "celery.log").open("wb")
    cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "footfall.delivery.celery_app",
        "worker",
        "-Q",
        queue,
        "--pool",
        "solo",
        "-n",
        f"{queue}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-l",
        "warning",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    yield proc
    if proc.poll() is None:
        # Nothing is in flight by now; Celery's own shutdown over AMQP idles ~10 s.
        proc.kill()
        proc.wait(WAIT)
    log.close()


def test_batches_reach_the_store_through_a_real_worker(
    broker: str, queue: str, celery_worker: Any, db_url: str
) -> None:
    app = celery.Celery("producer", broker=broker)
    tracker = Tracker([CelerySink(app, queue=queue)], flush_interval=0.05, batch_size=40)
    sent = [tracker.emit("pageview", site="c.example", path=f"/{i}") for i in range(200)]
    extra = make_events(30)
    CelerySink(app, queue=queue).write(extra)
    CelerySink(app, queue=queue).write(extra)  # a redelivered batch
    tracker.close()
    store = connect(db_url)
    wait_for(lambda: store.count() >= 230, what="the Celery worker to store every event")
    assert celery_worker.poll() is None
    ids = [e.id for e in store.get_usage(limit=1_000)]
    assert sorted(ids) == sorted(e.id for e in sent + extra)
    store.close()


def test_task_body_stores_and_skips_bad_payloads(db_url: str) -> None:
    events = make_events(5)
    payload = base64.b64encode(encode_batch(events)).decode()
    assert store_batch(payload, db_url=db_url) == 5
    assert store_batch(payload, db_url=db_url) == 0  # duplicates dropped
    assert store_batch(base64.b64encode(b"junk").decode(), db_url=db_url) == 0
    assert store_batch("not base64 !!", db_url=db_url) == 0


def test_register_tasks_names_the_task_and_drops_refused_data(db_url: str) -> None:
    app = celery.Celery("t", broker="memory://")
    task = register_tasks(app, db_url)
    assert app.tasks[TASK_NAME] is task
    assert register_tasks(app, db_url) is task  # idempotent
    bad = base64.b64encode(encode_batch([Event(name="x", bytes=2**64 - 1)])).decode()
    # The store refuses it as bad data: logged and dropped, not retried forever.
    assert task.apply(args=(bad,)).get() == 0


def test_each_app_gets_its_own_task_and_store(tmp_path: Path) -> None:
    """A task registered on one app is not shared with apps made later in the process."""
    first = celery.Celery("first", broker="memory://")
    first_task = register_tasks(first, f"sqlite:///{tmp_path / 'first.db'}")
    second = celery.Celery("second", broker="memory://")
    assert TASK_NAME not in second.tasks
    second_task = register_tasks(second, f"sqlite:///{tmp_path / 'second.db'}")
    assert second_task is not first_task
    payload = base64.b64encode(encode_batch([Event(name="x", site="s.example")])).decode()
    assert second_task.apply(args=(payload,)).get() == 1
    assert connect(f"sqlite:///{tmp_path / 'second.db'}").count() == 1
    assert connect(f"sqlite:///{tmp_path / 'first.db'}").count() == 0
