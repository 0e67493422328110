"""The errors the stats engine raises: bad input (it names the parameter), or a store
that cannot answer now."""

from __future__ import annotations

from footfall.errors import FootfallError

__all__ = ["StatsError", "StatsUnavailable"]


class StatsError(FootfallError, ValueError):
    """A query parameter is invalid; the HTTP API answers 400 with this message.

    `param` is the request parameter at fault (`metrics`, `filters`, `date`...),
    so a client can tell which part of its request to fix.
    """

    def __init__(self, param: str, message: str, status: int = 400) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message
        self.status = status


class StatsUnavailable(FootfallError):
    """The store failed to answer what a request needs (its sites or tokens, say).

    The HTTP API answers 503 with this message: the request was fine, the
    database was not, and a retry may succeed.
    """

    status = 503

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
