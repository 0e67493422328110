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
that visit is new. Events without a `visitor_id` get no visit.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from footfall.event import Event, new_id
from footfall.integrations.visits import DEFAULT_VISIT_TIMEOUT, Visit
from footfall.processors.state import ProcessorState, VisitKey, VisitState, VisitTx

__all__ = ["VisitPluginsProcessor", "VisitsProcessor"]

log = logging.getLogger("footfall.processors")

CACHE_SIZE = 100_000  # visitors whose last written state this process remembers
PRUNE_EVERY = 600.0  # seconds between deletions of finished visits' state
PRUNE_MARGIN = timedelta(days=1)  # keep finished visits this long for late events

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _micros(ts: datetime) -> int:
    return (ts - _EPOCH) // timedelta(microseconds=1)


def _from_micros(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


class VisitsProcessor:
    """Sets `event.visit_id` and remembers each event's `Visit` for plugins."""

    def __init__(
        self,
        state: ProcessorState,
        *,
        timeout: timedelta = DEFAULT_VISIT_TIMEOUT,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        if timeout <= timedelta(0):
            raise ValueError("timeout must be positive")
        self.state = state
        self.timeout = timeout
        self._idle = _micros(_EPOCH + timeout)
        self._cache: OrderedDict[VisitKey, VisitState] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._next_prune = 0.0
        # Visits of the last batch, by event id, for the plugin step after us.
        self.last_visits: dict[str, Visit] = {}

    def __call__(self, event: Event) -> Event:
        self.process_batch([event])
        return event

    def process_batch(self, events: list[Event]) -> list[Event]:
        groups: dict[VisitKey, list[Event]] = {}
        for ev in sorted(events, key=lambda e: e.ts):
            if ev.visitor_id:
                groups.setdefault((ev.site, ev.visitor_id), []).append(ev)
        visits: dict[str, Visit] = {}
        if groups:
            with self._lock, self.state.visits() as tx:
                self._settle(tx, groups, visits)
                self._maybe_prune(tx, events)
        self.last_visits = visits
        return events

    # -- one transaction -----------------------------------------------------
    def _settle(
        self, tx: VisitTx, groups: dict[VisitKey, list[Event]], visits: dict[str, Visit]
    ) -> None:
        cache = self._cache
        unknown = [k for k in groups if k not in cache]
        loaded = tx.load(unknown) if unknown else {}
        for key, evs in groups.items():
            if key in cache:
                expected: VisitState | None = cache[key]
                new, found = self._assign(expected, evs)
                if not tx.replace(key, expected, new):
                    # Another process moved this visitor on: start from the truth.
                    expected = tx.load([key]).get(key)
                    new, found = self._assign(expected, evs)
                    tx.store(key, new)
            else:
                new, found = self._assign(loaded.get(key), evs)
                tx.store(key, new)
            for ev, visit in found:
                ev.visit_id = visit.key
                visits[ev.id] = visit
            cache[key] = new
            cache.move_to_end(key)
        while len(cache) > self._cache_size:
            cache.popitem(last=False)

    def _assign(
        self, current: VisitState | None, evs: Sequence[Event]
    ) -> tuple[VisitState, list[tuple[Event, Visit]]]:
        """Walk one visitor's events (sorted by time) from `current`."""
        idle = self._idle
        st = current
        found: list[tuple[Event, Visit]] = []
        for ev in evs:
            t = _micros(ev.ts)
            if ev.visit_id:  # fixed by the caller (cookie mode)
                if st is not None and st.visit_id == ev.visit_id:
                    st = VisitState(st.visit_id, min(st.started, t), max(st.last_seen, t))
                    found.append((ev, self._visit(st, False, t)))
                else:
                    st = VisitState(ev.visit_id, t, t)
                    found.append((ev, self._visit(st, True, t)))
            elif st is None or t - st.last_seen > idle:
                st = VisitState(new_id(), t, t)
                found.append((ev, self._visit(st, True, t)))
            elif t < st.started - idle:
                # Much older than the stored visit: a visit of its own, state kept.
                found.append((ev, Visit(new_id(), True, ev.ts, ev.ts)))
            else:
                is_new = False
                st = VisitState(st.visit_id, min(st.started, t), max(st.last_seen, t))
                found.append((ev, self._visit(st, is_new, t)))
        assert st is not None  # evs is never empty
        return st, found

    @staticmethod
    def _visit(st: VisitState, is_new: bool, t: int) -> Visit:
        return Visit(st.visit_id, is_new, _from_micros(st.started), _from_micros(t))

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
        from footfall.integrations.visits import run_plugins, worker_plugins

        plugins = worker_plugins()
        if not plugins:
            return events
        found = self.visits.last_visits
        for ev in sorted(events, key=lambda e: e.ts):
            visit = found.get(ev.id)
            if visit is not None:
                run_plugins(plugins, visit, ev)
        return events
