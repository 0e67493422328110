"""Exceptions users catch or raise."""

from __future__ import annotations

__all__ = ["ConfigurationError", "DropEvent", "FootfallError", "ValidationError"]


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


class ConfigurationError(FootfallError):
    """Footfall was set up wrongly (bad store URL, missing optional package, ...)."""
