"""Assign `visit_id`: a visit ends after `timeout` (30 minutes) without a request.

A batch processor: it sorts the batch's events by time and settles every
visitor of the batch in ONE store transaction, so several processes writing
one store (gunicorn workers, collector workers) agree on visits. The last
state this process wrote is cached; a cached row is written back with a
compare-and-set, and only when another process changed it since is the row
read again and the visitor's events recomputed. A process alone on its store
therefore reads visit state only for visitors it has not seen yet.

Late events (older than the stored visit) join that visit when they fall
within it or `timeout` before it; older ones get a visit of their own and
leave the stored state alone. An event that arrives with a `visit_id` (the
cookie mode of the middlewares) keeps it; the state then only tells whether
that visit is new (an event with a visit id but no visitor id is tracked
under its visit id). Events with neither get no visit.

A new visit's id is a UUIDv7 unless `visit_id` is given: a log import
derives it from the visitor and the visit's start, so a re-import gives the
same visits the same ids.

Retry-safe: the events and the cache change only after the transaction has
committed. When the store is unavailable (`StateUnavailable`), the batch is
left as it was handed in, and the delivery worker runs it again later: it
gets the visits an uninterrupted run would have given it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from operator import attrgetter

from footfall.event import Event, new_id
from footfall.processors.state import (
    ProcessorState,
    VisitKey,
    VisitState,
    VisitTx,
    renew_lock_after_fork,
)
from footfall.processors.visit_plugins import (
    DEFAULT_VISIT_TIMEOUT,
    Visit,
    run_plugins,
    worker_plugins,
)

__all__ = ["VisitPluginsProcessor", "VisitsProcessor"]

log = logging.getLogger("footfall.processors")

CACHE_SIZE = 100_000  # visitors whose last written state this process remembers
PRUNE_EVERY = 600.0  # seconds between deletions of finished visits' state
PRUNE_MARGIN = timedelta(days=1)  # keep finished visits this long for late events

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

_by_ts = attrgetter("ts")

# Per event: (visit id, is new, visit start in UTC microseconds, event time).
_Found = tuple[str, bool, int, datetime]
# Per visitor: the state written and the walk of its events.
_Settled = dict[VisitKey, tuple[VisitState, list[_Found]]]


def _micros(ts: datetime) -> int:
    d = ts - _EPOCH
    return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds


def _from_micros(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


class VisitsProcessor:
    """Sets `event.visit_id`; `visit_of(event)` gives the last batch's `Visit`s."""

    def __init__(
        self,
        state: ProcessorState,
        *,
        timeout: timedelta = DEFAULT_VISIT_TIMEOUT,
        cache_size: int = CACHE_SIZE,
        visit_id: Callable[[VisitKey, int], str] | None = None,
    ) -> None:
        if timeout <= timedelta(0):
            raise ValueError("timeout must be positive")
        self.state = state
        # (visitor key, start in UTC microseconds) -> id of a new visit
        self._mint = visit_id or _random_visit_id
        self.timeout = timeout
        self._idle = _micros(_EPOCH + timeout)
        self._cache: OrderedDict[VisitKey, VisitState] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        renew_lock_after_fork(self)
        self._next_prune = 0.0
        self._found: dict[str, _Found] = {}  # the last batch's visits, by event id

    def __call__(self, event: Event) -> Event:
        self.process_batch([event])
        return event

    def process_batch(self, events: list[Event]) -> list[Event]:
        groups: dict[VisitKey, list[Event]] = {}
        for ev in sorted(events, key=_by_ts):
            # A cookie-mode event may carry only its visit id: track that.
            who = ev.visitor_id or (ev.visit_id and "visit:" + ev.visit_id)
            if who:
                key = (ev.site, who)
                group = groups.get(key)
                if group is None:
                    groups[key] = [ev]
                else:
                    group.append(ev)
        found: dict[str, _Found] = {}
        if groups:
            with self._lock:
                with self.state.visits() as tx:
                    settled = self._settle(tx, groups)
                    self._maybe_prune(tx, events)
                # Committed: only now may the events and the cache move on.
                self._apply(groups, settled, found)
        self._found = found
        return events

    def visit_of(self, event: Event) -> Visit | None:
        """The `Visit` the last batch gave `event` (built on demand), if any."""
        f = self._found.get(event.id)
        return None if f is None else Visit(f[0], f[1], _from_micros(f[2]), f[3])

    # -- one transaction -----------------------------------------------------
    def _settle(self, tx: VisitTx, groups: dict[VisitKey, list[Event]]) -> _Settled:
        """Each visitor's new state and walk, written in `tx`; nothing else changes."""
        cache = self._cache
        unknown = [k for k in groups if k not in cache]
        loaded = tx.load(unknown) if unknown else {}
        assign = self._assign
        settled: _Settled = {}
        checked: list[tuple[VisitKey, VisitState, VisitState]] = []
        for key, evs in groups.items():
            expected = cache.get(key)
            if expected is not None:
                settled[key] = new, _ = assign(key, expected, evs)
                checked.append((key, expected, new))
            else:
                settled[key] = new, _ = assign(key, loaded.get(key), evs)
                tx.store(key, new)
        for key in _replace_many(tx, checked):
            # Another process moved this visitor on: start from the truth.
            settled[key] = new, _ = assign(key, tx.load([key]).get(key), groups[key])
            tx.store(key, new)
        return settled

    def _apply(
        self, groups: dict[VisitKey, list[Event]], settled: _Settled, found: dict[str, _Found]
    ) -> None:
        """Give the events their visits and remember the states written."""
        cache = self._cache
        for key, evs in groups.items():
            new, walk = settled[key]
            for ev, f in zip(evs, walk, strict=True):
                ev.visit_id = f[0]
                found[ev.id] = f
            cache[key] = new
            cache.move_to_end(key)
        while len(cache) > self._cache_size:
            cache.popitem(last=False)

    def _assign(
        self, key: VisitKey, current: VisitState | None, evs: Sequence[Event]
    ) -> tuple[VisitState, list[_Found]]:
        """Walk one visitor's events (sorted by time) on from `current`."""
        idle = self._idle
        mint = self._mint
        # The state as three locals: no tuple built per event.
        vid, started, last = current if current is not None else ("", 0, 0)
        walk: list[_Found] = []
        for ev in evs:
            ts = ev.ts
            d = ts - _EPOCH
            t = (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds
            if ev.visit_id:  # fixed by the caller (cookie mode)
                if vid == ev.visit_id:
                    started, last = min(started, t), max(last, t)
                    walk.append((vid, False, started, ts))
                else:
                    vid, started, last = ev.visit_id, t, t
                    walk.append((vid, True, t, ts))
            elif not vid or t - last > idle:
                vid, started, last = mint(key, t), t, t
                walk.append((vid, True, t, ts))
            elif t < started - idle:
                # Much older than the stored visit: a visit of its own, state kept.
                walk.append((mint(key, t), True, t, ts))
            else:
                if t > last:
                    last = t
                elif t < started:
                    started = t
                walk.append((vid, False, started, ts))
        return VisitState(vid, started, last), walk

    def _maybe_prune(self, tx: VisitTx, events: list[Event]) -> None:
        now = time.monotonic()
        if now < self._next_prune:
            return
        self._next_prune = now + PRUNE_EVERY
        newest = max(e.ts for e in events)
        before = _micros(newest - self.timeout - PRUNE_MARGIN)
        removed = tx.prune(before)
        if removed:
            stale = [k for k, v in self._cache.items() if v.last_seen < before]
            for k in stale:
                del self._cache[k]
            log.debug("footfall: pruned %d finished visits", removed)

    def __repr__(self) -> str:
        return f"VisitsProcessor(timeout={self.timeout})"


def _random_visit_id(key: VisitKey, start: int) -> str:
    """A new visit's id when none is derived: a UUIDv7, like every live id."""
    return new_id()


def _replace_many(
    tx: VisitTx, items: list[tuple[VisitKey, VisitState, VisitState]]
) -> list[VisitKey]:
    """Compare-and-set many keys; in one statement where the store offers it (SQLite)."""
    if not items:
        return []
    bulk = getattr(tx, "replace_many", None)
    if bulk is not None:
        return list(bulk(items))
    return [key for key, expected, new in items if not tx.replace(key, expected, new)]


class VisitPluginsProcessor:
    """Runs the enabled worker-side visit plugins after `VisitsProcessor`.

    Plugins are read at each batch, so `enable_visit_plugin` works at any
    time. Each plugin sees the batch's events in time order, each with its
    `Visit`; events without a visit are skipped.
    """

    def __init__(self, visits: VisitsProcessor) -> None:
        self.visits = visits

    def __call__(self, event: Event) -> Event:
        self.process_batch([event])
        return event

    def process_batch(self, events: list[Event]) -> list[Event]:
        plugins = worker_plugins()
        if not plugins:
            return events
        for ev in sorted(events, key=_by_ts):
            visit = self.visits.visit_of(ev)
            if visit is not None:
                run_plugins(plugins, visit, ev)
        return events

    def __repr__(self) -> str:
        return "VisitPluginsProcessor()"
