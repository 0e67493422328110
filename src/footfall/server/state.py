"""What one server process holds: the store it reads, the tracker it writes through.

Two promises of `footfall serve` are kept here (docs/guarantees.md):

- An accepted event (answered 202) is retried until the sink takes it: the
  collector's tracker never gives up on a store or Redis that is down
  (`RETRY_FOREVER`). What it holds meanwhile is bounded by its queue,
  `FOOTFALL_QUEUE_SIZE` events; once that is full the collector answers 503
  with `Retry-After`, and senders retry.
- On shutdown (SIGTERM, through uvicorn and the lifespan) the queue is
  drained for up to `FOOTFALL_SERVER_DRAIN_SECONDS`; what is still held when
  that runs out is logged with its count.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from footfall import settings
from footfall.delivery.dispatch import RETRY_FOREVER
from footfall.delivery.redis_sink import RedisSink
from footfall.delivery.sinks import Sink, StoreSink
from footfall.errors import ConfigurationError
from footfall.processors import Processor
from footfall.processors.defaults import default_processors
from footfall.stores import Store, connect, default_url
from footfall.tracker import Tracker

__all__ = ["DEFAULT_DRAIN_SECONDS", "ServerState", "collector_tracker"]

# Shutdown's limit for storing the queue: 60 s unless $FOOTFALL_SERVER_DRAIN_SECONDS says.
DEFAULT_DRAIN_SECONDS = settings.SERVER_DRAIN_SECONDS.default


def collector_tracker(sink: Sink, processors: Sequence[Processor] = ()) -> Tracker:
    """The collector's tracker: holds what it accepted until `sink` takes it.

    Its queue holds `$FOOTFALL_QUEUE_SIZE` events (default 100,000): with
    the sink down that is what the process keeps in memory, then new events
    are refused (503). Size it for the longest outage to ride out: events/s
    times seconds.
    """
    return Tracker(
        [sink],
        processors,
        name="collector",
        source="browser",
        queue_size=settings.QUEUE_SIZE(),
        max_retries=RETRY_FOREVER,
    )


@dataclass
class ServerState:
    """Shared by every route module of one server process.

    `tracker` is the write side: the collector only enqueues into it and its
    worker writes batches to `store`. `store` carries its metadata store
    (`store.meta_home()`: the `--meta` store, else itself), where sites,
    tokens, users and the processors' state are read. `extras` is where route modules keep
    their own state (rate limiters, schema registry, ...), keyed by module.
    """

    store: Store
    tracker: Tracker
    db_url: str = field(repr=False)  # may hold a password; `store`'s repr shows it redacted
    schemas_dir: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    drain_time: float = DEFAULT_DRAIN_SECONDS  # seconds `close` may take to store the queue

    @classmethod
    def from_url(
        cls,
        db_url: str | None = None,
        schemas_dir: str | None = None,
        meta_url: str | None = None,
    ) -> ServerState:
        """The state of a server over `db_url` (default $FOOTFALL_DB), with its
        metadata in `meta_url` (default $FOOTFALL_META_DB, else the same store)."""
        settings.check()  # a bad value stops the start, not a request or the exit
        url = db_url or default_url()
        store = connect(url, meta=meta_url if meta_url is not None else settings.META_DB())
        if not store.meta_home().holds_meta:
            store.close()
            raise ConfigurationError(
                f"{store!r} keeps events only: give the store for sites, tokens, users and "
                "visitor state with --meta postgresql://... (or $FOOTFALL_META_DB)"
            )
        tracker = collector_tracker(_sink(store), list(default_processors(store)))
        return cls(
            store=store,
            tracker=tracker,
            db_url=url,
            schemas_dir=schemas_dir or settings.SCHEMAS(),
            drain_time=settings.SERVER_DRAIN_SECONDS(),
        )

    def close(self) -> None:
        """Store what was accepted (within the drain time), then close the store.

        The failed-events writer goes first: it writes through the store,
        which closing the tracker's sink closes. If the drain time runs out
        with a batch still being written, the store is left open: closing it
        under that write could block the exit (the process is ending anyway).
        """
        deadline = time.monotonic() + self.drain_time
        collector = self.extras.get("collector")
        if collector is not None:
            collector.close()  # its failed-events writer: at most 5 s
        left = self.tracker.close(timeout=max(0.0, deadline - time.monotonic()))
        if not left:
            self.store.close()


def _sink(store: Store) -> Any:
    """Where accepted events go: the store, or a Redis Stream when `serve --redis` is set.

    With `$FOOTFALL_REDIS_SINK` the collector only appends to the stream
    (`$FOOTFALL_STREAM`, default "footfall") and `footfall worker` processes
    write to the store, so collectors stay stateless and can scale out.
    """
    redis_url = settings.REDIS_SINK()
    if not redis_url:
        return StoreSink(store)
    return RedisSink(redis_url, stream=settings.STREAM())
