"""What one server process holds: the store it reads, the tracker it writes through."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from footfall.delivery.sinks import StoreSink
from footfall.stores import Store, connect, default_url
from footfall.tracker import Tracker

__all__ = ["ServerState"]


@dataclass
class ServerState:
    """Shared by every route module of one server process.

    `tracker` is the write side: the collector only enqueues into it and its
    worker writes batches to `store`. `extras` is where route modules keep
    their own state (rate limiters, schema registry, ...), keyed by module.
    """

    store: Store
    tracker: Tracker
    db_url: str
    schemas_dir: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_url(cls, db_url: str | None = None, schemas_dir: str | None = None) -> ServerState:
        url = db_url or default_url()
        store = connect(url)
        processors: list[Any] = []
        try:
            from footfall.processors.defaults import default_processors

            processors = list(default_processors(store))
        except ImportError:
            pass
        tracker = Tracker([_sink(store)], processors, name="collector", source="browser")
        return cls(
            store=store,
            tracker=tracker,
            db_url=url,
            schemas_dir=schemas_dir or os.environ.get("FOOTFALL_SCHEMAS"),
        )

    def close(self) -> None:
        # A server shutting down with a deep queue gets longer than the library's
        # default to drain it (uvicorn waits for the lifespan to finish).
        self.tracker.close(timeout=float(os.environ.get("FOOTFALL_SERVER_DRAIN_SECONDS", "60")))
        self.store.close()


def _sink(store: Store) -> Any:
    """Where accepted events go: the store, or a Redis Stream when `serve --redis` is set.

    With `$FOOTFALL_REDIS_SINK` the collector only appends to the stream
    (`$FOOTFALL_STREAM`, default "footfall") and `footfall worker` processes
    write to the store, so collectors stay stateless and can scale out.
    """
    redis_url = os.environ.get("FOOTFALL_REDIS_SINK")
    if not redis_url:
        return StoreSink(store)
    from footfall.delivery.redis_sink import RedisSink

    return RedisSink(redis_url, stream=os.environ.get("FOOTFALL_STREAM") or "footfall")
