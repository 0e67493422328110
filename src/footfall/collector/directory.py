"""Sites and API tokens as the request path sees them: cached, refreshed once per TTL.

A request must not query the database for each event, so the whole list of
sites and of active token hashes is loaded into memory and replaced at most
once per `ttl` seconds (both lists are small: one row per site or token).
A site added with `footfall sites add` is therefore accepted by a running
server within `ttl` seconds.

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

from footfall.stores.meta import Meta, Site, Token, hash_token, normalize_domain

__all__ = ["Directory"]

log = logging.getLogger("footfall.collector")


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

    def token(self, secret: str) -> Token | None:
        _, tokens = self._lists()
        return tokens.get(hash_token(secret))
