"""Sites and API tokens as the request path sees them: cached, refreshed once per TTL.

A request must not query the database for each event, so the whole list of
sites and of active token hashes is loaded into memory and replaced at most
once per `ttl` seconds (both lists are small: one row per site or token).
A site added with `footfall sites add` is therefore accepted by a running
server within `ttl` seconds.

An unknown API token is different: the sender is an app that `footfall token
create` has just been run for, and a 401 makes it drop its events for good.
So a look-up that misses answers `RETRY`, and the caller reloads the lists
off the event loop (`reload_after_miss`, in a thread: only that request
waits) and looks again; the miss is final (None, a 401) when lists loaded
since such a reload was asked for, less than `ttl` ago, lack the token.
Unknown tokens cost at most one extra reload per `ttl`.

The lists are loaded when the directory is made (at server start, not on a
request). Later, a look-up on the event loop that finds them stale starts a
reload in a background thread and answers from the current lists: a slow or
unreachable database never holds up a request. Off the event loop (the CLI,
tests) a stale look-up reloads inline.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Literal

from footfall.stores.meta import Meta, Site, Token, hash_token, normalize_domain

__all__ = ["RETRY", "Directory"]

log = logging.getLogger("footfall.collector")

RETRY: Literal["retry"] = "retry"  # `Directory.token`: look again after `reload_after_miss`


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class Directory:
    """In-process cache of one store's sites and active tokens."""

    def __init__(
        self, meta: Meta, ttl: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.meta = meta
        self.ttl = ttl
        self.clock = clock
        self._sites: dict[str, Site] = {}
        self._tokens: dict[str, Token] = {}
        self._loaded_at = -float("inf")
        self._lock = threading.Lock()
        self._flag_lock = threading.Lock()
        self._reloading = False
        self._loads = 0  # how many times the lists were loaded
        self._miss_at = -float("inf")  # when an unknown token last asked for a reload ...
        self._miss_loads = -1  # ... and which load of the lists lacked it
        self._reload()

    def _reload(self, force: bool = True) -> None:
        with self._lock:
            if not force and self.clock() - self._loaded_at < self.ttl:
                return  # another thread has just reloaded
            try:
                sites = {s.domain: s for s in self.meta.list_sites()}
                tokens = self.meta.active_tokens()
            except Exception:
                # Keep serving the last good lists; try again after the TTL.
                log.exception("footfall: could not refresh sites and tokens")
            else:
                self._sites, self._tokens = sites, tokens
                self._loads += 1
            self._loaded_at = self.clock()

    def _reload_in_background(self) -> None:
        with self._flag_lock:  # not _lock: a reload holds that while it queries
            if self._reloading:
                return
            self._reloading = True

        def run() -> None:
            try:
                self._reload(force=False)
            finally:
                self._reloading = False

        threading.Thread(target=run, name="footfall-directory", daemon=True).start()

    def _lists(self) -> tuple[dict[str, Site], dict[str, Token]]:
        """The lists a look-up answers from: on the event loop the current ones
        (a stale pair starts a reload in the background), elsewhere fresh ones."""
        current = self._sites, self._tokens
        if self.clock() - self._loaded_at < self.ttl:
            return current
        if _on_event_loop():
            self._reload_in_background()
            return current
        self._reload(force=False)
        return self._sites, self._tokens

    def invalidate(self) -> None:
        """Reload now (after `footfall sites add` in the same process)."""
        self._reload()

    def site(self, domain: str) -> Site | None:
        sites, _ = self._lists()
        found = sites.get(domain)
        if found is None and domain and domain != (norm := normalize_domain(domain)):
            found = sites.get(norm)
        return found

    def token(self, secret: str) -> Token | Literal["retry"] | None:
        """The active token with this secret; None: there is none; RETRY: see the module."""
        found = self._lists()[1].get(hash_token(secret))
        if found is not None:
            return found
        now = self.clock()
        if self._loads > self._miss_loads and now - self._miss_at < self.ttl:
            return None  # the lists loaded since a miss asked for them lack it
        self._miss_at, self._miss_loads = now, self._loads
        return RETRY

    def reload_after_miss(self) -> None:
        """Reload for a `RETRY`, unless that was done since (blocking: off the event loop)."""
        if self._loads == self._miss_loads:
            self._reload()
