"""Visitor ids: a keyed hash of (daily salt, site, IP, user agent), or of the user id.

The salt is random, one per UTC day, kept in the store so every process of a
site computes the same id for the same visitor on the same day; after the
day the id cannot be linked to the next day's, and salts older than two days
are deleted, so not even the operator can recompute an old id from an IP.
The IP and user agent only enter the hash; this step stores neither.

An event's own UTC day picks the salt while that salt is kept (today and
yesterday); older events use today's. A log import passes `salts` instead:
each day's salt derived from a secret kept in the store, so importing the
same log again gives the same ids (`footfall.importers.ids`).

Who an event counts as, in order (docs/processors.md, "Who is a visitor"):

1. the `visitor_id` it carries (cookie mode, a browser or app id);
2. the request that sent it: its IP and user agent, hashed as above. A
   custom event emitted while a tracked request is handled carries that
   request's IP and user agent (`footfall.origin`), so it gets the request's
   visitor and, through the visits step, its visit;
3. its `user_id`: a server-side event (a job, a webhook, an app's backend
   posting through `HttpSink` or Celery) is that user's, hashed the same way
   with the day's salt and the site, under its own BLAKE2b personalisation
   so no user id can produce the id of an (IP, user agent) pair. The raw
   user id never becomes a visitor id, and a user is one visitor per site
   and day, as a cookieless visitor is;
4. nothing: the event counts in `events` but in no visitor count.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta

from footfall.event import Event, utcnow
from footfall.processors.state import ProcessorState, renew_lock_after_fork

__all__ = ["KEEP_SALT_DAYS", "VisitorIdProcessor"]

log = logging.getLogger("footfall.processors")

KEEP_SALT_DAYS = 2  # today and yesterday; older salts are deleted
DIGEST_SIZE = 16  # bytes: 128-bit ids, 32 hex characters


class VisitorIdProcessor:
    """Fills an empty `visitor_id` from the salted hash of who sent the event.

    Of the request's IP and user agent when it has either, else of its
    `user_id`. Events with none of them are left alone: hashing nothing
    would merge every such visitor into one. `cookieless=False` hashes user
    ids only (no id from IP and user agent). `clock` returns the current UTC
    time (tests inject one to cross midnight).

    `salts`, when given, gives every day its salt: each event then uses its
    own day's salt however old, and no salt is created or deleted in `state`.
    """

    def __init__(
        self,
        state: ProcessorState,
        *,
        cookieless: bool = True,
        clock: Callable[[], datetime] = utcnow,
        salts: Callable[[date], bytes] | None = None,
    ) -> None:
        self.state = state
        self.cookieless = cookieless
        self.clock = clock
        self._derive = salts
        self._salts: dict[date, bytes] = {}
        self._today: date | None = None
        self._lock = threading.Lock()
        renew_lock_after_fork(self)

    def __call__(self, event: Event) -> Event:
        if event.visitor_id:
            return event
        if self.cookieless and (event.ip or event.user_agent):
            salt = self._salt_for(event.ts.date(), self.clock().date())
            event.visitor_id = _hash(salt, event.site, event.ip, event.user_agent)
        elif event.user_id:
            salt = self._salt_for(event.ts.date(), self.clock().date())
            event.visitor_id = _hash_user(salt, event.site, event.user_id)
        return event

    def process_batch(self, events: list[Event]) -> list[Event]:
        """The same for a batch: the clock read once, each visitor hashed once.

        A site's batch holds a few requests per visitor, so most events reuse
        the id computed for the same (day, site, IP, user agent).
        """
        today = self.clock().date()
        memo: dict[tuple[date, str, str, str], str] = {}
        users: dict[tuple[date, str, str], str] = {}
        cookieless = self.cookieless
        for event in events:
            if event.visitor_id:
                continue
            day = event.ts.date()
            if cookieless and (event.ip or event.user_agent):
                key = (day, event.site, event.ip, event.user_agent)
                vid = memo.get(key)
                if vid is None:
                    vid = memo[key] = _hash(self._salt_for(day, today), *key[1:])
                event.visitor_id = vid
            elif event.user_id:
                ukey = (day, event.site, event.user_id)
                vid = users.get(ukey)
                if vid is None:
                    vid = users[ukey] = _hash_user(self._salt_for(day, today), *ukey[1:])
                event.visitor_id = vid
        return events

    def _salt_for(self, day: date, today: date) -> bytes:
        if self._derive is not None:
            derived = self._salts.get(day)
            if derived is None:
                derived = self._salts[day] = self._derive(day)
            return derived
        if today != self._today:
            with self._lock:
                if today != self._today:
                    self._rotate(today)
        if day != today and (day > today or (today - day).days >= KEEP_SALT_DAYS):
            day = today
        salt = self._salts.get(day)
        if salt is None:
            with self._lock:
                salt = self._salts.get(day)
                if salt is None:
                    salt = self.state.salt(day.isoformat())
                    self._salts[day] = salt
        return salt

    def _rotate(self, today: date) -> None:
        """A new day: forget and delete salts that are no longer kept."""
        keep_from = today - timedelta(days=KEEP_SALT_DAYS - 1)
        self._salts = {d: s for d, s in self._salts.items() if d >= keep_from}
        try:
            removed = self.state.prune_salts(keep_from.isoformat())
        except Exception:
            log.exception("footfall: deleting old visitor salts failed; retried tomorrow")
            removed = 0
        if removed:
            log.info("footfall: deleted %d old visitor salts", removed)
        self._today = today

    def __repr__(self) -> str:
        return f"VisitorIdProcessor(cookieless={self.cookieless})"


def _hash(salt: bytes, site: str, ip: str, user_agent: str) -> str:
    h = hashlib.blake2b(key=salt, digest_size=DIGEST_SIZE)
    # NUL-separated: no field can run into the next one.
    h.update(f"{site}\x00{ip}\x00{user_agent}".encode())
    return h.hexdigest()


_USER = b"footfall-user"  # BLAKE2b personalisation: user ids hash apart from (IP, UA) pairs


def _hash_user(salt: bytes, site: str, user_id: str) -> str:
    h = hashlib.blake2b(key=salt, digest_size=DIGEST_SIZE, person=_USER)
    h.update(f"{site}\x00{user_id}".encode())
    return h.hexdigest()
