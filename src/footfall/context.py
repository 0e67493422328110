"""Named, stackable contexts kept in `contextvars`.

A context is a mapping merged into every event emitted while it is active.
Keeping the stack in a `ContextVar` (as an immutable tuple) makes it correct
per thread and per asyncio task with no locking: a task copies its parent's
stack when it starts and its own pushes never leak back.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = ["ContextStack"]

_Frame = tuple[str, Mapping[str, Any]]


class ContextStack:
    """The context stack of one tracker."""

    def __init__(self, name: str) -> None:
        self._var: ContextVar[tuple[_Frame, ...]] = ContextVar(f"footfall_ctx_{name}", default=())

    def enter(self, name: str, ctx: Mapping[str, Any]) -> None:
        """Push `ctx` under `name`; it stays active until `exit(name)`."""
        self._var.set((*self._var.get(), (name, dict(ctx))))

    def exit(self, name: str) -> None:
        """Pop the innermost context called `name` (a no-op if there is none)."""
        frames = self._var.get()
        for i in range(len(frames) - 1, -1, -1):
            if frames[i][0] == name:
                self._var.set(frames[:i] + frames[i + 1 :])
                return

    @contextmanager
    def scoped(self, name: str, ctx: Mapping[str, Any]) -> Iterator[None]:
        """Push `ctx` for the duration of a `with` block, unwinding on exception."""
        token = self._var.set((*self._var.get(), (name, dict(ctx))))
        try:
            yield
        finally:
            try:
                self._var.reset(token)
            except ValueError:
                # Exited in another Context (a generator resumed elsewhere):
                # fall back to removing the frame by name.
                self.exit(name)

    def active(self) -> bool:
        """Whether any context is active (cheap: one ContextVar read)."""
        return bool(self._var.get())

    def merged(self) -> dict[str, Any]:
        """All active contexts merged, innermost winning on conflicting keys."""
        frames = self._var.get()
        if not frames:
            return {}
        if len(frames) == 1:
            return dict(frames[0][1])
        out: dict[str, Any] = {}
        for _, ctx in frames:
            out.update(ctx)
        return out

    def names(self) -> list[str]:
        return [name for name, _ in self._var.get()]
