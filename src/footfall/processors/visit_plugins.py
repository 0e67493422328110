"""Visits and visit plugins: the TurboGears Visit idea, done without its costs.

Every tracked request belongs to a visitor and a visit; a visit ends after
30 minutes without a request (configurable). TurboGears ran its visit
plugins on the request path with a database write each; here a plugin's
`record_request(visit, request)` runs in the background worker, right after
the visits processor, with the stored `Event` as `request`. A plugin that
needs the framework request itself sets `inline = True`: the middleware then
calls it on the request path through `run_inline_plugins`, with a `Visit`
from an in-process `VisitTracker`, so it must be quick and do no I/O.

A plugin that raises is logged and skipped; tracking goes on.

This lives with the processors because the worker's visits step calls the
plugins; users import it as `footfall.integrations.visits`, where the
middlewares that call the inline plugins are.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from footfall.event import new_id, utcnow
from footfall.processors.state import renew_lock_after_fork

__all__ = [
    "DEFAULT_VISIT_TIMEOUT",
    "Visit",
    "VisitPlugin",
    "VisitTracker",
    "disable_visit_plugin",
    "enable_visit_plugin",
    "inline_plugins",
    "run_inline_plugins",
    "run_plugins",
    "visit_plugins",
    "worker_plugins",
]

log = logging.getLogger("footfall.visits")

DEFAULT_VISIT_TIMEOUT = timedelta(minutes=30)
DEFAULT_TRACKER_SIZE = 100_000  # visitors an inline VisitTracker remembers


@dataclass(frozen=True, slots=True)
class Visit:
    """One visit as a plugin sees it for one request.

    `key` is the visit id (stored as `Event.visit_id`); `is_new` is true for
    the visit's first request; `started` is the time of that first request
    and `last_seen` the time of this one (both UTC).
    """

    key: str
    is_new: bool
    started: datetime
    last_seen: datetime


class VisitPlugin(Protocol):
    """What `enable_visit_plugin` accepts; `inline = True` is optional."""

    def record_request(self, visit: Visit, request: Any, /) -> object: ...


# Copy-on-write tuple: readers (the worker, request threads) never lock.
_plugins: tuple[Any, ...] = ()
_plugins_lock = threading.Lock()


def enable_visit_plugin(plugin: Any) -> None:
    """Call `plugin.record_request(visit, request)` for every tracked request.

    Enabling the same object twice has no extra effect.
    """
    global _plugins
    if not callable(getattr(plugin, "record_request", None)):
        raise TypeError(f"{plugin!r} has no record_request(visit, request) method")
    with _plugins_lock:
        if not any(p is plugin for p in _plugins):
            _plugins = (*_plugins, plugin)


def disable_visit_plugin(plugin: Any) -> None:
    """Stop calling `plugin`; unknown plugins are ignored."""
    global _plugins
    with _plugins_lock:
        _plugins = tuple(p for p in _plugins if p is not plugin)


def visit_plugins() -> tuple[Any, ...]:
    """Every enabled plugin, in the order enabled."""
    return _plugins


def inline_plugins() -> tuple[Any, ...]:
    """Plugins that asked to run on the request path (`inline = True`)."""
    return tuple(p for p in _plugins if getattr(p, "inline", False))


def worker_plugins() -> tuple[Any, ...]:
    """Plugins that run in the background worker (the default)."""
    return tuple(p for p in _plugins if not getattr(p, "inline", False))


def run_plugins(plugins: tuple[Any, ...], visit: Visit, request: Any) -> None:
    """Call each plugin; one that raises is logged and the others still run."""
    for plugin in plugins:
        try:
            plugin.record_request(visit, request)
        except Exception:
            log.exception("footfall: visit plugin %r failed", plugin)


def run_inline_plugins(visit: Visit, request: Any) -> None:
    """For middlewares: run the inline plugins with the framework request."""
    plugins = inline_plugins()
    if plugins:
        run_plugins(plugins, visit, request)


class VisitTracker:
    """Visits computed in this process, for inline plugins and cookie mode.

    `touch(key, ts)` takes a visitor key (a cookie value, a user id, ...)
    and returns that visitor's current `Visit`, starting a new one after
    `timeout` idle. Thread-safe; remembers at most `max_size` visitors
    (least recently seen forgotten first). It knows only this process's
    requests: the worker's visits processor, which shares state through the
    store, is the authority on what is stored.
    """

    def __init__(
        self,
        timeout: timedelta = DEFAULT_VISIT_TIMEOUT,
        max_size: int = DEFAULT_TRACKER_SIZE,
    ) -> None:
        if timeout <= timedelta(0) or max_size < 1:
            raise ValueError("timeout and max_size must be positive")
        self.timeout = timeout
        self.max_size = max_size
        self._lock = threading.Lock()
        self._visits: OrderedDict[str, Visit] = OrderedDict()
        renew_lock_after_fork(self)

    def touch(self, key: str, ts: datetime | None = None) -> Visit:
        """Record a request of visitor `key` at `ts` (now) and return its visit."""
        ts = ts or utcnow()
        with self._lock:
            old = self._visits.get(key)
            if old is None or ts - old.last_seen > self.timeout:
                visit = Visit(new_id(), True, ts, ts)
            elif ts < old.last_seen:  # a late request: the visit goes on as it was
                visit = Visit(old.key, False, min(old.started, ts), old.last_seen)
            else:
                visit = Visit(old.key, False, old.started, ts)
            self._visits[key] = visit
            self._visits.move_to_end(key)
            if len(self._visits) > self.max_size:
                self._visits.popitem(last=False)
            return visit

    def forget(self, key: str) -> None:
        """Drop what is known about visitor `key` (logout, erasure)."""
        with self._lock:
            self._visits.pop(key, None)

    def __len__(self) -> int:
        return len(self._visits)
