"""Hooks through which the layers above the stores take part in a store's work.

The stores sit below the stats engine and must not import it, yet two things a
store does concern it: deleting events must tell the stats summaries kept
beside them (they still count those events), and the stats engine asks a store
for the SQL dialect it speaks. So the stores call the hooks registered here,
and the upper layers register on them:

- **delete hooks**, per store dialect: called before a `purge` or
  `delete_visitor` deletes, inside its transaction where the store has one,
  with a `Deletion` saying what goes;
- **the stats-dialect provider**: `Store.stats_dialect()` asks it.

`footfall.wiring` registers the stats engine's hooks when the `footfall`
package is imported, which every import of a footfall module does first, so
they are in place however a store was opened (its docstring says more).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


class _Store(Protocol):
    """What the hooks read of a store (the `Store` contract has it; importing
    that contract here would make base.py and this module import each other)."""

    @property
    def dialect(self) -> str: ...


__all__ = [
    "DeleteHook",
    "Deletion",
    "add_delete_hook",
    "before_delete",
    "set_stats_dialect_provider",
    "stats_dialect",
]


@dataclass(frozen=True)
class Deletion:
    """The events a store is about to delete, as its DELETE selects them.

    `where` is the DELETE's condition over `events` (without the `WHERE`), in
    the store's placeholder style (`Store.paramstyle`): fixed SQL from
    `footfall.stores.sqltext` whose values are all in `params` (a sequence, or
    a dict on ClickHouse). `purge_before_us` is set by `purge`: every event
    before that time (UTC microseconds) goes, of `site` or of every site.
    """

    where: Any
    params: Any
    purge_before_us: int | None = None
    site: str | None = None


# (store, connection or cursor of the delete's transaction - None where the
# store has no transactions - , what is deleted)
DeleteHook = Callable[[Any, Any, Deletion], None]

_lock = threading.Lock()
# Replaced, never changed in place: a delete reads its tuple without the lock.
_delete_hooks: dict[str, tuple[DeleteHook, ...]] = {}
_dialect_provider: Callable[[Any], Any] | None = None


def add_delete_hook(dialect: str, hook: DeleteHook) -> None:
    """Call `hook` before every delete of a store speaking `dialect` (once, however
    often it is added)."""
    with _lock:
        found = _delete_hooks.get(dialect, ())
        if hook not in found:
            _delete_hooks[dialect] = (*found, hook)


def before_delete(store: _Store, conn: Any, deletion: Deletion) -> None:
    """Run the delete hooks of `store`'s dialect (the store calls this)."""
    for hook in _delete_hooks.get(store.dialect, ()):
        hook(store, conn, deletion)


def set_stats_dialect_provider(provider: Callable[[Any], Any]) -> None:
    """Make `provider(store)` the answer to `Store.stats_dialect()`."""
    global _dialect_provider
    _dialect_provider = provider


def stats_dialect(store: _Store) -> Any:
    """The stats engine's SQL dialect for `store`, from the registered provider."""
    provider = _dialect_provider
    if provider is None:
        raise RuntimeError("no stats dialect provider is registered (footfall.wiring does it)")
    return provider(store)
