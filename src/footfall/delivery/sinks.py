"""Sinks: where a processed batch goes. A sink raises to ask for a retry.

A sink is anything with `write(events)` and `close()`. Network sinks (HTTP,
Redis, Celery) live in their own modules; the ones here need nothing but the
standard library and a store.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TextIO, runtime_checkable

import msgspec

from footfall.event import Event

if TYPE_CHECKING:
    from footfall.stores.base import Store

__all__ = ["CaptureSink", "JsonlSink", "PrintSink", "Sink", "StoreSink"]

log = logging.getLogger("footfall.delivery")

Hook = Callable[[Sequence[Event]], object]

_encoder = msgspec.json.Encoder()


@runtime_checkable
class Sink(Protocol):
    """Receives processed batches on the worker thread."""

    def write(self, events: Sequence[Event]) -> None: ...

    def close(self) -> None: ...


class StoreSink:
    """Writes batches to a store; `hooks` run after each stored batch.

    Hooks are post-storage hooks: callables taking the batch. (Hooks written
    for Flask-Track-Usage take one row's keys instead: they go on its
    storages or on `footfall.integrations.flask_track_usage.FootfallStorage`.)
    One that raises is logged and does not fail the batch (the events are
    already stored; retrying would only repeat the hook).
    """

    def __init__(self, store: Store, hooks: Iterable[Hook] = ()) -> None:
        self.store = store
        self.hooks = list(hooks)

    @property
    def preferred_batch_size(self) -> int | None:
        """The store's batch size hint (see `Store.preferred_batch_size`)."""
        return self.store.preferred_batch_size

    def write(self, events: Sequence[Event]) -> None:
        self.store.write(events)
        for hook in self.hooks:
            try:
                hook(events)
            except Exception:
                log.exception("footfall: post-store hook %r raised", hook)

    def close(self) -> None:
        self.store.close()

    def __repr__(self) -> str:
        return f"StoreSink({self.store!r})"


class JsonlSink:
    """Appends one JSON object per event to a file (the simplest durable sink)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def write(self, events: Sequence[Event]) -> None:
        data = b"".join(_encoder.encode(e) + b"\n" for e in events)
        with self._lock, self.path.open("ab") as fh:
            fh.write(data)

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"JsonlSink({str(self.path)!r})"


class PrintSink:
    """Prints events as JSON lines, for development."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def write(self, events: Sequence[Event]) -> None:
        out = self.stream or sys.stdout
        for ev in events:
            out.write(_encoder.encode(ev).decode() + "\n")
        out.flush()

    def close(self) -> None:
        pass


class CaptureSink:
    """Keeps events in memory so tests can assert on what was tracked."""

    def __init__(self) -> None:
        self._events: list[Event] = []
        self._lock = threading.Lock()

    def write(self, events: Sequence[Event]) -> None:
        with self._lock:
            self._events.extend(events)

    def close(self) -> None:
        pass

    @property
    def events(self) -> list[Event]:
        with self._lock:
            return list(self._events)

    def names(self) -> list[str]:
        return [e.name for e in self.events]

    def clear(self) -> None:
        with self._lock:
            self._events.clear()

    def __len__(self) -> int:
        return len(self._events)
