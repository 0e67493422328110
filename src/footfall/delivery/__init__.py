"""Delivery: the non-blocking path from `emit` to sinks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from footfall.delivery.dispatch import Counters, Dispatcher
from footfall.delivery.sinks import CaptureSink, JsonlSink, PrintSink, Sink, StoreSink
from footfall.delivery.worker import BackgroundWorker

if TYPE_CHECKING:  # type checkers see the classes; the runtime loads them on first use
    from footfall.delivery.celery_sink import CelerySink
    from footfall.delivery.http_sink import HttpSink
    from footfall.delivery.redis_sink import RedisSink

__all__ = [
    "BackgroundWorker",
    "CaptureSink",
    "CelerySink",
    "Counters",
    "Dispatcher",
    "HttpSink",
    "JsonlSink",
    "PrintSink",
    "RedisSink",
    "Sink",
    "StoreSink",
]

# Network sinks load on first use, so `import footfall` never pays for (or
# needs) redis-py or Celery.
_LAZY = {
    "RedisSink": "footfall.delivery.redis_sink",
    "CelerySink": "footfall.delivery.celery_sink",
    "HttpSink": "footfall.delivery.http_sink",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'footfall.delivery' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
