"""The background thread `footfall serve` runs its report schedule and alert checks on.

Both wake every `interval` seconds with jitter (so several server processes
do not query together), wait before the first run too (the server's start is
not the moment to query), and never end on a failing run: the subclass's
`tick` logs its own failures. One class keeps those rules in one place.
"""

from __future__ import annotations

import random
import threading
from typing import TypeVar

__all__ = ["Periodic"]

_P = TypeVar("_P", bound="Periodic")


class Periodic:
    """Calls `tick()` every `interval` seconds (±10 %) on a daemon thread until `stop()`."""

    def __init__(self, name: str, interval: float) -> None:
        self.interval = interval
        self.runs = 0  # ticks done (tests and /health readers)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def tick(self) -> None:
        """One run; must log, never raise."""
        raise NotImplementedError

    def start(self: _P) -> _P:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval * random.uniform(0.9, 1.1)):
            self.tick()
            self.runs += 1

    @property
    def running(self) -> bool:
        """Whether the thread is alive (started and not stopped)."""
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
