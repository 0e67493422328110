"""Flush-then-close at interpreter exit and on SIGTERM.

`install()` runs when the first worker thread starts. It registers an
`atexit` hook and, from the main thread, a SIGTERM handler that flushes every
worker and then hands the signal on to whatever handler the host application
had installed (or to the default action, so the process still terminates with
the usual status).
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import threading
from types import FrameType
from typing import Any

__all__ = ["SHUTDOWN_TIMEOUT", "flush_all", "install"]

SHUTDOWN_TIMEOUT = 5.0  # seconds allowed to flush at exit, for all workers together

log = logging.getLogger("footfall.delivery")

_installed_atexit = False
_previous_sigterm: Any = None
_lock = threading.Lock()


def flush_all(timeout: float = SHUTDOWN_TIMEOUT) -> int:
    """Close every live worker within `timeout`; return and log what was left."""
    import time

    from footfall.delivery.worker import live_workers

    deadline = time.monotonic() + timeout
    left = 0
    for worker in live_workers():
        remaining = max(0.05, deadline - time.monotonic())
        left += worker.close(remaining)
    if left:
        log.warning("footfall: %d events could not be delivered before shutdown", left)
    return left


def _at_exit() -> None:
    flush_all()


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    flush_all()
    previous = _previous_sigterm
    if callable(previous):
        previous(signum, frame)
    elif previous == signal.SIG_IGN:
        return
    else:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


def install() -> None:
    """Register the exit hooks once per process (idempotent, cheap)."""
    global _installed_atexit, _previous_sigterm
    with _lock:
        if not _installed_atexit:
            atexit.register(_at_exit)
            _installed_atexit = True
        if threading.current_thread() is not threading.main_thread():
            return
        if os.environ.get("FOOTFALL_NO_SIGNALS"):
            return
        try:
            current = signal.getsignal(signal.SIGTERM)
        except (ValueError, OSError):  # no signals here (embedded interpreter)
            return
        if current is _on_sigterm:
            return
        _previous_sigterm = current
        try:
            signal.signal(signal.SIGTERM, _on_sigterm)
        except (ValueError, OSError):
            _previous_sigterm = None
