"""Footfall: self-hosted usage analytics and event tracking for Python.

The public API is what this module exports; everything else may move.
"""

from __future__ import annotations

# Registers the stats engine on the stores' hooks (wiring.py says why here).
from footfall import wiring  # noqa: F401
from footfall.delivery.sinks import CaptureSink, JsonlSink, PrintSink, StoreSink
from footfall.errors import ConfigurationError, DropEvent, FootfallError, ValidationError
from footfall.event import Event
from footfall.stores import connect
from footfall.subject import Subject
from footfall.tracker import Tracker, emit, get_tracker, register_tracker

__version__ = "0.1.0"

__all__ = [
    "CaptureSink",
    "ConfigurationError",
    "DropEvent",
    "Event",
    "FootfallError",
    "JsonlSink",
    "PrintSink",
    "StoreSink",
    "Subject",
    "Tracker",
    "ValidationError",
    "__version__",
    "connect",
    "emit",
    "get_tracker",
    "register_tracker",
]
