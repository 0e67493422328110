"""`CelerySink`: hand each batch to a Celery task that stores it.

For sites that already run Celery: the web process sends, a Celery worker
writes to the store. The task is footfall's own, `footfall.store_batch`;
register it on your app with `register_tasks(app, db_url)` (or run the ready
app, `celery -A footfall.delivery.celery_app worker -Q footfall`).

The task runs the default processors before it stores a batch, with the
store's shared salts and visits: it is where these events enter the store,
as the collector is for `HttpSink`. So a user id is counted as a visitor,
and a request's IP and user agent as the request's, the same way on every
path (docs/processors.md). A web process's tracker that only sends to
Celery runs none; one that already did leaves nothing to fill (each step
fills only what is empty).

The payload is a MessagePack batch (base64 inside Celery's JSON messages,
so any serializer setting works) plus its format name. The task is sent with
`acks_late` semantics: a worker that dies mid-task leaves the message
unacknowledged and the broker redelivers it; the store drops the duplicate
ids of a batch stored twice. A store that is down is retried (backoff capped
at a minute, no limit); a batch that will never decode, or that the store
refuses as bad data, is logged and dropped rather than retried forever.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from footfall import settings
from footfall.backoff import backoff_delay
from footfall.delivery.serialize import FORMAT_MSGPACK, BatchDecodeError, decode_batch, encode_batch
from footfall.delivery.stream_worker import is_data_error
from footfall.errors import ConfigurationError
from footfall.event import Event
from footfall.processors import Processor, run_chain
from footfall.processors.defaults import default_processors
from footfall.redact import redact_url
from footfall.stores import Store, connect, default_url

if TYPE_CHECKING:
    from celery import Celery

__all__ = ["TASK_NAME", "CelerySink", "register_tasks", "store_batch"]

TASK_NAME = "footfall.store_batch"
DEFAULT_QUEUE = settings.CELERY_QUEUE.default  # the ready app's queue: "footfall"
PUBLISH_RETRIES = 2  # kombu's own reconnect attempts per send; the dispatcher retries above
RETRY_BASE = 1.0  # seconds before the task's first retry of a store that is down
RETRY_MAX = 60.0  # ceiling of one retry's countdown

log = logging.getLogger("footfall.delivery")

_stores: dict[str, tuple[Store, list[Processor]]] = {}
_stores_lock = threading.Lock()


def _store_for(db_url: str | None) -> tuple[Store, list[Processor]]:
    """One store and default chain per worker process and URL.

    Connections are not shared across forks, and the chain's caches (salts,
    visits) belong with the store whose state they mirror.
    """
    url = db_url or default_url()
    with _stores_lock:
        found = _stores.get(url)
        if found is None:
            store = connect(url)
            found = _stores[url] = (store, default_processors(store))
        return found


def store_batch(
    payload: str,
    fmt: str = FORMAT_MSGPACK,
    db_url: str | None = None,
    processors: Sequence[Processor] | None = None,
) -> int:
    """The task body: decode a batch, process and store it; return how many events were new.

    `processors` None runs the default chain; `[]` stores the events as sent.
    A processor's shared state that is down raises (`ChainInterrupted`), and
    the task retries the batch as it does for a store that is down.
    """
    try:
        events = decode_batch(base64.b64decode(payload, validate=True), fmt)
    except (BatchDecodeError, ValueError) as exc:
        log.error("footfall: dropping an undecodable Celery batch: %s", exc)
        return 0
    store, default_chain = _store_for(db_url)
    chain = default_chain if processors is None else processors
    if chain:
        events = run_chain(chain, events)
    return store.write(events)


def register_tasks(
    app: Celery, db_url: str | None = None, *, processors: Sequence[Processor] | None = None
) -> Any:
    """Register `footfall.store_batch` on `app`, storing into `db_url` (default $FOOTFALL_DB).

    The task runs `processors` (default: the default chain over that store)
    on each batch before storing it; pass `[]` when the senders' trackers
    already run the processors you want.
    """
    if TASK_NAME in app.tasks:
        return app.tasks[TASK_NAME]

    def task(self: Any, payload: str, fmt: str = FORMAT_MSGPACK) -> int:
        try:
            return store_batch(payload, fmt, db_url, processors)
        except Exception as exc:
            if is_data_error(exc):  # retrying bad data would loop forever
                log.error("footfall: store refused a Celery batch, dropped: %s", exc)
                return 0
            # The store is down: wait for it (backoff capped at a minute), never give up.
            # No jitter: Celery's countdown is already spread by when each batch failed.
            wait = backoff_delay(self.request.retries, base=RETRY_BASE, cap=RETRY_MAX, jitter=0)
            raise self.retry(exc=exc, countdown=wait) from exc

    return app.task(
        name=TASK_NAME,
        bind=True,
        acks_late=True,  # a killed worker's batch is redelivered, not lost
        reject_on_worker_lost=True,
        max_retries=None,
        ignore_result=True,
        # Celery adds a shared task to every app made later in the process: a
        # second app would then get the first one's store URL instead of its own.
        shared=False,
    )(task)


class CelerySink:
    """A sink that sends each batch as one `footfall.store_batch` task."""

    def __init__(self, app: Celery, *, queue: str = DEFAULT_QUEUE) -> None:
        try:
            import celery  # noqa: F401
        except ImportError as exc:  # pragma: no cover - needs celery missing
            raise ConfigurationError(
                f"CelerySink needs `pip install 'footfall[celery]'` ({exc})"
            ) from exc
        self.app = app
        self.queue = queue

    def write(self, events: Sequence[Event]) -> None:
        if not events:
            return
        payload = base64.b64encode(encode_batch(events, FORMAT_MSGPACK)).decode("ascii")
        self.app.send_task(
            TASK_NAME,
            args=(payload, FORMAT_MSGPACK),
            queue=self.queue,
            ignore_result=True,
            retry=True,
            retry_policy={"max_retries": PUBLISH_RETRIES, "interval_start": 0.2},
        )

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        broker = redact_url(self.app.conf.broker_url or "")
        return f"CelerySink(broker={broker!r}, queue={self.queue!r})"
