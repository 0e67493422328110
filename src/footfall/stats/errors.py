"""The one error the stats engine raises for bad input: it names the parameter."""

from __future__ import annotations

__all__ = ["StatsError"]


class StatsError(ValueError):
    """A query parameter is invalid; the HTTP API answers 400 with this message.

    `param` is the request parameter at fault (`metrics`, `filters`, `date`...),
    so a client can tell which part of its request to fix.
    """

    def __init__(self, param: str, message: str, status: int = 400) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message
        self.status = status
