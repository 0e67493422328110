"""Exceptions users catch or raise."""

from __future__ import annotations

__all__ = [
    "ConfigurationError",
    "DropEvent",
    "FootfallError",
    "StateUnavailable",
    "ValidationError",
]


class FootfallError(Exception):
    """Base class of every error footfall raises on purpose."""


class ValidationError(FootfallError, ValueError):
    """An event broke a limit or a type rule; `field` names where, `reason` says why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class DropEvent(Exception):
    """Raised by a processor to stop an event; nothing downstream sees it."""


class StateUnavailable(FootfallError):
    """A processor's shared state (the store's database) cannot be reached right now.

    Raised by a `ProcessorState` (and by a processor of your own) for an
    outage - a lost connection, a locked file, a pool with no connection to
    give - never for a bug. The delivery worker then holds the batch and runs
    the chain again from that processor, instead of storing events without
    the ids the step would have given them. A processor that raises it must
    leave the events it was handed as they were (or as a retry will accept).
    """


class ConfigurationError(FootfallError):
    """Footfall was set up wrongly (bad store URL, missing optional package, ...)."""
