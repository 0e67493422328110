"""Flush-then-close at interpreter exit and on SIGTERM.

`install(live)` runs when the first worker thread starts, with the function
that lists the workers still open (the worker module passes it in, so this
module needs nothing from it). It registers an `atexit` hook and, from the
main thread, a SIGTERM handler.

The handler does no work itself. Python runs it in the main thread between
two bytecodes, wherever that thread is: possibly inside one of the worker's
locks, which are not reentrant, so flushing from the handler could deadlock
the process. It writes one byte to a pipe and returns (the self-pipe trick:
no lock, no allocation that can block). A drain thread, started along with
the handler, wakes on that byte, closes every worker within
`SHUTDOWN_TIMEOUT`, and sends SIGTERM again. That second delivery goes on to
whatever handler the host application had installed, or to the default
action, so the process still ends with the usual status. A SIGTERM that
arrives while the drain runs is passed on at once: whoever sends it twice
wants out now.

A host that closes the workers itself, with its own time limit, wraps its
life in `host_drains()`: `footfall serve` does, so its SIGTERM stays with
uvicorn, whose graceful shutdown ends in the lifespan that drains the
collector for `FOOTFALL_SERVER_DRAIN_SECONDS`. (Closing the workers here
first, within 5 s, is what cut that drain short.)
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, Protocol

from footfall import settings

__all__ = ["SHUTDOWN_TIMEOUT", "flush_all", "host_drains", "install"]

SHUTDOWN_TIMEOUT = 5.0  # seconds allowed to flush at exit, for all workers together

log = logging.getLogger("footfall.delivery")

# Phases of a SIGTERM, as seen by the handler (plain module state: the handler
# reads and writes it without a lock; only the main thread runs the handler).
_IDLE, _DRAINING, _DRAINED = 0, 1, 2

_lock = threading.Lock()  # install() and host_drains() only, never the handler
_installed_atexit = False
_previous_sigterm: Any = None
_hosts = 0  # hosts (server lifespans) that drain the workers themselves
_phase = _IDLE
_pipe: tuple[int, int] | None = None  # (read, write) ends of this process's drain pipe
_pipe_pid = 0


class Closable(Protocol):
    """What shutdown closes: a worker, which says how many items it still held."""

    def close(self, timeout: float | None = ...) -> int: ...


_live: Callable[[], Iterable[Closable]] | None = None  # set by install()


def flush_all(timeout: float = SHUTDOWN_TIMEOUT) -> int:
    """Close every live worker within `timeout`; return and log what was left."""
    live = _live
    if live is None:
        return 0  # no worker thread ever started: nothing was queued
    deadline = time.monotonic() + timeout
    left = 0
    for worker in live():
        remaining = max(0.05, deadline - time.monotonic())
        left += worker.close(remaining)
    if left:
        log.warning("footfall: %d events could not be delivered before shutdown", left)
    return left


@contextmanager
def host_drains() -> Iterator[None]:
    """Leave SIGTERM to the host for the block: it closes the workers itself.

    For a server whose own signal handling ends in a shutdown hook that
    closes its trackers with a longer time limit than `SHUTDOWN_TIMEOUT`.
    """
    global _hosts
    with _lock:
        _hosts += 1
    try:
        yield
    finally:
        with _lock:
            _hosts -= 1


def _at_exit() -> None:
    flush_all()


def _pass_on(signum: int, frame: FrameType | None) -> None:
    """What SIGTERM would have done without footfall."""
    previous = _previous_sigterm
    if callable(previous):
        previous(signum, frame)
    elif previous == signal.SIG_IGN:
        return
    else:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    # No locks and no flushing here: see the module docstring.
    global _phase
    pipe = _pipe
    if _phase == _DRAINED:
        _phase = _IDLE  # a host that lives on gets its next SIGTERM drained again
        _pass_on(signum, frame)
        return
    if _hosts or _phase == _DRAINING or pipe is None or _pipe_pid != os.getpid():
        _pass_on(signum, frame)
        return
    _phase = _DRAINING
    try:
        os.write(pipe[1], bytes([signum]))
    except OSError:
        _phase = _IDLE
        _pass_on(signum, frame)


def _drain_on_signal(read_fd: int) -> None:
    """The drain thread: close the workers when the handler says so, then re-send."""
    global _phase
    while True:
        try:
            data = os.read(read_fd, 1)
        except OSError:
            return
        if not data:
            return
        try:
            flush_all()
        except Exception:
            log.exception("footfall: flushing on SIGTERM failed")
        _phase = _DRAINED
        os.kill(os.getpid(), data[0])


def _ensure_drain_thread() -> None:
    """Start this process's drain thread and pipe (again after a fork)."""
    global _pipe, _pipe_pid
    if _pipe is not None and _pipe_pid == os.getpid():
        return
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)  # the handler must never wait
    threading.Thread(
        target=_drain_on_signal, args=(read_fd,), name="footfall-sigterm", daemon=True
    ).start()
    _pipe, _pipe_pid = (read_fd, write_fd), os.getpid()


def _no_signals() -> bool:
    """`$FOOTFALL_NO_SIGNALS`: leave SIGTERM to the host (pytest, a server of its own).

    Read when the first worker starts, which may be inside `emit` on a
    request: a value that does not parse is logged, not raised there, and
    counts as set - whoever wrote it meant to say something.
    """
    try:
        return settings.NO_SIGNALS()
    except settings.SettingError as exc:
        log.error("footfall: %s; SIGTERM is left alone", exc)
        return True


def install(live: Callable[[], Iterable[Closable]]) -> None:
    """Register the exit hooks once per process (idempotent, cheap).

    `live` lists the workers to close at exit and on SIGTERM.
    """
    global _installed_atexit, _previous_sigterm, _live
    with _lock:
        _live = live
        if not _installed_atexit:
            atexit.register(_at_exit)
            _installed_atexit = True
        if _hosts or threading.current_thread() is not threading.main_thread():
            return
        if _no_signals():
            return
        try:
            current = signal.getsignal(signal.SIGTERM)
        except (ValueError, OSError):  # no signals here (embedded interpreter)
            return
        _ensure_drain_thread()
        if current is _on_sigterm:
            return
        _previous_sigterm = current
        try:
            signal.signal(signal.SIGTERM, _on_sigterm)
        except (ValueError, OSError):
            _previous_sigterm = None


def _after_fork_in_child() -> None:
    # The parent's drain thread did not come along; its pipe must not be shared,
    # and a lock some parent thread held at the fork would stay held here.
    global _lock, _pipe, _pipe_pid, _phase
    _lock = threading.Lock()
    pipe, _pipe, _pipe_pid, _phase = _pipe, None, 0, _IDLE
    if pipe is not None:
        for fd in pipe:
            try:
                os.close(fd)
            except OSError:
                pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
