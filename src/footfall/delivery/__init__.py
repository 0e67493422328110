"""Delivery: the non-blocking path from `emit` to sinks."""

from __future__ import annotations

from footfall.delivery.dispatch import Counters, Dispatcher
from footfall.delivery.sinks import CaptureSink, JsonlSink, PrintSink, Sink, StoreSink
from footfall.delivery.worker import BackgroundWorker

__all__ = [
    "BackgroundWorker",
    "CaptureSink",
    "Counters",
    "Dispatcher",
    "JsonlSink",
    "PrintSink",
    "Sink",
    "StoreSink",
]
