"""The import secret, and the ids a log import derives from it.

Importing the same log twice must store each request once, and a crash
mid-file must be resumable by running the command again. So an imported
event's id is not random: it is a keyed hash of the site, the line and the
line's occurrence among identical lines, and the visitor and visit ids are
derived the same way. The key is a random secret kept in the store
(`SECRET_KEY`, a row of the processor state's `visitor_salts` table, created
on the first import): importing into the same store gives the same ids.

Why a secret and not a plain hash: an event keeps everything of its line but
the IP, so a plain hash of the line would give the IP back to anyone who
tries the 2^32 IPv4 addresses; and a daily visitor salt derived from public
data (the date) would let anyone recompute visitor ids from an IP. Holding
the secret is holding the store, whose operator imported the log (which has
the IPs) anyway.

Every id has the UUIDv7 layout with the event's (or the visit start's)
millisecond, so imported ids sort by time like live ones and go into the
events index in time order.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import date

from footfall.processors.state import StateSource, VisitKey

__all__ = ["SECRET_KEY", "ImportIds", "import_secret"]

log = logging.getLogger("footfall.importers")

# The key of the import secret among the visitor salts. It is not a date, and
# sorts after every date, so deleting the salts of past days never deletes it.
SECRET_KEY = "import-secret"  # noqa: S105 - the row's name, not the secret

_HEX = "0123456789abcdef"
_VARIANT = {c: _HEX[8 | (int(c, 16) & 3)] for c in _HEX}  # RFC 9562 variant bits 10xx
_PREFIX_CACHE_MAX = 4_096


def import_secret(store: StateSource) -> bytes | None:
    """The import secret kept with the store's metadata (created on first use), or
    None where there is no shared processor state to keep it in."""
    state = store.meta_home().processor_state()
    if state is None:
        return None
    return state.salt(SECRET_KEY)


def _subkey(secret: bytes, purpose: bytes) -> bytes:
    """One key per use of the secret, so no id can be computed from another."""
    return hashlib.blake2b(purpose, key=secret, digest_size=32).digest()


class ImportIds:
    """Event ids, visit ids and daily visitor salts, all derived from one secret."""

    def __init__(self, secret: bytes) -> None:
        self._events = hashlib.blake2b(key=_subkey(secret, b"event ids"), digest_size=10)
        self._visits = hashlib.blake2b(key=_subkey(secret, b"visit ids"), digest_size=10)
        self._visitors = hashlib.blake2b(key=_subkey(secret, b"visitor ids"), digest_size=8)
        self._salts = _subkey(secret, b"visitor salts")
        self._prefixes: dict[int, str] = {}

    def _uuid(self, ms: int, digest: str) -> str:
        """A UUIDv7-shaped id: `ms` in the time field, 74 bits of `digest` in the rest."""
        prefix = self._prefixes.get(ms)
        if prefix is None:
            if len(self._prefixes) >= _PREFIX_CACHE_MAX:
                self._prefixes.clear()
            t = f"{ms & 0xFFFF_FFFF_FFFF:012x}"
            prefix = self._prefixes[ms] = f"{t[:8]}-{t[8:]}-7"
        return f"{prefix}{digest[:3]}-{_VARIANT[digest[3]]}{digest[4:7]}-{digest[7:19]}"

    def event_id(self, site: str, line: str, ms: int) -> str:
        """The id of the request `line` logs for `site` (the first of identical lines)."""
        h = self._events.copy()
        h.update(f"L{site}\n{line}".encode())
        return self._uuid(ms, h.hexdigest())

    def repeat_id(self, first: str, occurrence: int, ms: int) -> str:
        """The id of the `occurrence`-th repeat (from 1) of the line whose id is `first`.

        Two requests can log the same line in the same second (a double
        click); they are two events.
        """
        h = self._events.copy()
        h.update(f"R{first}\n{occurrence}".encode())
        return self._uuid(ms, h.hexdigest())

    def visit_id(self, key: VisitKey, start: int) -> str:
        """The id of the visit of `key` (site, visitor id) starting at `start` (UTC us)."""
        h = self._visits.copy()
        h.update(f"{key[0]}\n{key[1]}\n{start}".encode())
        return self._uuid(start // 1000, h.hexdigest())

    def visitor_id(self, site: str, foreign: str) -> str:
        """The visitor id of another tool's visitor or session id `foreign` on `site`:
        the same for every import into the store, and not the foreign id itself."""
        h = self._visitors.copy()
        h.update(f"{site}\n{foreign}".encode())
        return h.hexdigest()

    def day_salt(self, day: date) -> bytes:
        """The visitor-id salt of UTC day `day`: the same for every import into the store."""
        return hashlib.blake2b(day.isoformat().encode(), key=self._salts, digest_size=32).digest()
