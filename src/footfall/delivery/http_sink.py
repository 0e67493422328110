"""`HttpSink`: send batches to a remote `footfall serve` (`POST /api/event`).

The body is `{"events": [...]}` as gzip'd JSON with a bearer token, so a
token-authenticated sender may set `ts`, `visitor_id` and the other fields a
browser may not. Chunks of at most `max_events` events keep each request
under the collector's size limit; a body over `max_body_bytes`, or one the
collector answers 413, is split in halves (down to single events).

Failure handling follows the status code:

* 2xx: done.
* 429, 408 and 5xx, and network errors: retried in place a few times with
  exponential backoff and jitter; a `Retry-After` header sets the wait
  (seconds or an HTTP date). When the retries run out, or Retry-After asks
  for longer than `max_inline_wait`, the batch goes to the spool.
* any other 4xx: the collector will never take this batch; raise with
  `retryable = False` so the dispatcher reports it through `on_failure`
  instead of retrying.

With a `spool` directory, a collector that stays down costs nothing but
disk: batches are appended to the spool, and while the spool holds anything
every new batch queues behind it, so replay keeps the original order. A
replay thread (started only when something is spooled) drains it oldest
first once the collector answers again, backing off while it does not.
Without a spool a failed batch raises (retryable) and the dispatcher's own
retries are all the patience there is.
"""

from __future__ import annotations

import email.utils
import http.client
import logging
import random
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from footfall.delivery.serialize import http_body
from footfall.delivery.spool import DEFAULT_SPOOL_BYTES, Spool
from footfall.errors import FootfallError
from footfall.event import Event

__all__ = ["HttpSink", "HttpSinkError"]

DEFAULT_TIMEOUT = 10.0  # seconds per request
DEFAULT_RETRIES = 3  # in-place attempts after the first
DEFAULT_MAX_EVENTS = 500  # events per request
DEFAULT_MAX_BODY = 1_000_000  # bytes per request: the collector's default limit
BACKOFF_BASE = 0.25  # seconds, doubled per attempt
MAX_INLINE_WAIT = 5.0  # longest single wait on the sending thread; longer -> spool
REPLAY_MAX_INTERVAL = 30.0  # ceiling of the replay thread's backoff
GZIP_MAGIC = b"\x1f\x8b"  # a JSON body never starts with these bytes
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

log = logging.getLogger("footfall.delivery")


class HttpSinkError(FootfallError):
    """A request failed; `retryable` says whether sending it again could help."""

    def __init__(self, message: str, *, status: int | None, retryable: bool, wait: float = 0):
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.wait = wait  # the collector's Retry-After, in seconds


def _endpoint(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"HttpSink needs an http(s) URL, got {url!r}")
    path = parts.path if parts.path not in ("", "/") else "/api/event"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def _halves(chunk: list[Event]) -> list[list[Event]]:
    """Split for `deque.extendleft`, which reverses: the first half comes out first."""
    mid = len(chunk) // 2
    return [chunk[mid:], chunk[:mid]]


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    current = datetime.now(timezone.utc).timestamp() if now is None else now
    return max(0.0, when.timestamp() - current)


class HttpSink:
    """A sink posting batches to a remote collector, with retries and an optional disk spool."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        spool: str | Path | None = None,
        spool_max_bytes: int = DEFAULT_SPOOL_BYTES,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        max_events: int = DEFAULT_MAX_EVENTS,
        max_body_bytes: int = DEFAULT_MAX_BODY,
        max_inline_wait: float = MAX_INLINE_WAIT,
        replay_max_interval: float = REPLAY_MAX_INTERVAL,
        compress: bool = True,
    ) -> None:
        if max_events < 1 or retries < 0 or timeout <= 0:
            raise ValueError("max_events and timeout must be positive, retries >= 0")
        self.url = _endpoint(url)
        self.token = token
        self.timeout = timeout
        self.retries = retries
        self.max_events = max_events
        self.max_body_bytes = max_body_bytes
        self.max_inline_wait = max_inline_wait
        self.replay_max_interval = replay_max_interval
        self.compress = compress  # off only for a proxy that cannot pass gzip bodies on
        self.spool = Spool(spool, spool_max_bytes) if spool is not None else None
        self.spooled = 0  # batches written to the spool
        self.dropped = 0  # batches refused by a full spool
        self._lock = threading.Lock()  # one request at a time: keeps the order
        self._kick = threading.Event()
        self._closed = threading.Event()
        self._next_try = 0.0  # monotonic time before which replay does not try
        self._failures = 0
        self._thread: threading.Thread | None = None
        if self.spool:
            self._start_replay()  # batches left by an earlier process

    # -- sending ----------------------------------------------------------------
    def _post(self, body: bytes) -> None:
        headers = {"Content-Type": "application/json", "User-Agent": "footfall-http-sink/1"}
        if body[:2] == GZIP_MAGIC:
            headers["Content-Encoding"] = "gzip"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(  # noqa: S310 - scheme checked in _endpoint
            self.url, data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - scheme checked
                response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read(500).decode("utf-8", "replace")
            exc.close()
            raise HttpSinkError(
                f"collector answered {exc.code}: {detail}",
                status=exc.code,
                retryable=exc.code in RETRY_STATUSES,
                wait=retry_after(exc.headers.get("Retry-After")) or 0.0,
            ) from None
        except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets
            raise HttpSinkError(
                f"collector unreachable: {exc}", status=None, retryable=True
            ) from exc

    def _send(self, body: bytes) -> None:
        """Post with in-place retries; raise the last error when they run out."""
        attempt = 0
        while True:
            try:
                self._post(body)
                return
            except HttpSinkError as exc:
                if not exc.retryable or attempt >= self.retries or self._closed.is_set():
                    raise
                wait = exc.wait or random.uniform(0, BACKOFF_BASE * 2**attempt)
                if wait > self.max_inline_wait:
                    raise
                attempt += 1
                log.debug("footfall: HttpSink retry %d in %.2fs (%s)", attempt, wait, exc)
                time.sleep(wait)

    def write(self, events: Sequence[Event]) -> None:
        work = deque(
            list(events[i : i + self.max_events]) for i in range(0, len(events), self.max_events)
        )
        refused: list[HttpSinkError] = []
        with self._lock:
            while work:
                chunk = work.popleft()
                body = http_body(chunk, compress=self.compress)
                if len(body) > self.max_body_bytes and len(chunk) > 1:
                    work.extendleft(_halves(chunk))  # big events: fewer per request
                    continue
                spooling = self.spool is not None and (
                    bool(self.spool) or time.monotonic() < self._next_try
                )
                if spooling:  # queue behind what is already spooled
                    self._to_spool([body, *(http_body(c, compress=self.compress) for c in work)])
                    break
                try:
                    self._send(body)
                except HttpSinkError as exc:
                    if exc.status == 413 and len(chunk) > 1:
                        work.extendleft(_halves(chunk))  # the collector's limit is lower
                        continue
                    if not exc.retryable:
                        refused.append(exc)
                        continue
                    if self.spool is None:
                        raise
                    self._note_failure(exc)
                    self._to_spool([body, *(http_body(c, compress=self.compress) for c in work)])
                    break
        if refused:
            raise HttpSinkError(
                f"{len(refused)} requests refused: {refused[0]}",
                status=refused[0].status,
                retryable=False,
            )

    # -- spool and replay -----------------------------------------------------------
    def _to_spool(self, bodies: list[bytes]) -> None:
        assert self.spool is not None
        for body in bodies:
            if self.spool.append(body):
                self.spooled += 1
            else:
                self.dropped += 1
                log.error("footfall: HttpSink spool %s is full; batch dropped", self.spool.path)
        self._start_replay()
        self._kick.set()

    def _note_failure(self, exc: HttpSinkError) -> None:
        self._failures += 1
        wait = exc.wait or random.uniform(0.5, 1.0) * min(
            self.replay_max_interval, 0.5 * 2 ** min(self._failures, 10)
        )
        self._next_try = time.monotonic() + wait
        log.warning("footfall: HttpSink spooling; collector retried in %.1fs (%s)", wait, exc)

    def _start_replay(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._thread = threading.Thread(
            target=self._replay_loop, name="footfall-http-replay", daemon=True
        )
        self._thread.start()

    def _replay_loop(self) -> None:
        while not self._closed.is_set():
            self._kick.wait(max(0.05, self._next_try - time.monotonic()))
            self._kick.clear()
            if self._closed.is_set():
                return
            if time.monotonic() >= self._next_try:
                self.replay()
            with self._lock:  # writers spool under this lock: no batch slips past the exit
                if not self.spool:
                    self._thread = None
                    return  # drained: the next spooled batch starts a new thread

    def replay(self, deadline: float | None = None) -> int:
        """Send spooled batches oldest first until one fails; return how many were sent."""
        if self.spool is None:
            return 0
        sent = 0
        for path in self.spool.files():
            if deadline is not None and time.monotonic() > deadline:
                break
            body = self.spool.read(path)
            if body is None:
                continue
            with self._lock:
                try:
                    self._post(body)
                except HttpSinkError as exc:
                    if exc.retryable:
                        self._note_failure(exc)
                        break
                    log.error("footfall: HttpSink: collector refused spooled %s: %s", path, exc)
                    self.spool.reject(path, str(exc))
                    continue
                self.spool.remove(path)
                self._failures = 0
                self._next_try = 0.0
                sent += 1
        if sent:
            log.info("footfall: HttpSink replayed %d spooled batches", sent)
        return sent

    def close(self, timeout: float = 5.0) -> None:
        """Stop the replay thread; give the spool one last bounded chance to drain."""
        deadline = time.monotonic() + timeout
        self._closed.set()
        self._kick.set()
        thread = self._thread
        if thread is not None:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self.spool and time.monotonic() >= self._next_try:
            self.replay(deadline)
        if self.spool:
            log.warning(
                "footfall: HttpSink closed with %d batches spooled in %s (sent on next start)",
                len(self.spool),
                self.spool.path,
            )

    def __repr__(self) -> str:
        return f"HttpSink({self.url!r})"
