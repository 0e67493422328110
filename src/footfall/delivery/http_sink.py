"""`HttpSink`: send batches to a remote `footfall serve` (`POST /api/event`).

The body is `{"events": [...]}` as gzip'd JSON with a bearer token, so a
token-authenticated sender may set `ts`, `visitor_id` and the other fields a
browser may not. Chunks of at most `max_events` events keep each request
under the collector's size limit; a body over `max_body_bytes`, or one the
collector answers 413, is split in halves (down to single events).

HttpSink is the only layer that retries its requests. Every error `write`
raises is final (`retryable = False`), so the dispatcher reports it through
`on_failure` at once instead of sending the batch again: retries in both
layers multiplied (4 here times 5 there made 20 requests for one batch).
Each request is tried at most `1 + retries` times (4 by default).

Failure handling follows the status code:

* 2xx: the answer lists the events not taken (`footfall.delivery.http_reply`).
  Those refused because the collector's queue was full are sent again, and
  only those, within the same attempts; events refused for good (a bad field,
  an unknown site) are reported.
* 429, 408 and 5xx, and network errors: tried again with exponential backoff
  and jitter; a `Retry-After` header sets the wait (seconds or an HTTP date).
  When the attempts run out, or Retry-After asks for longer than
  `max_inline_wait`, the events still owed go to the spool, or without one
  are reported.
* 3xx: never followed. urllib would turn the POST into a GET and carry the
  `Authorization` header to wherever `Location` points, another host
  included; the batch is reported with the redirect's target, so the
  operator can set the final URL.
* any other 4xx: the collector will never take this batch; it is reported.

With a `spool` directory, a collector that stays down costs nothing but
disk: batches are appended to the spool, and while the spool holds anything
every new batch queues behind it, so replay keeps the original order. A
replay thread (started only when something is spooled) drains it oldest
first once the collector answers again, backing off while it does not, but
never longer than `replay_max_interval` (5 s) between tries: the spool starts
draining within that of the collector's return. A full spool (its byte cap,
or the disk) refuses the batch, which is reported. A spooled batch the
collector refuses for good is moved to `rejected/` with the reason; the
events of a spooled batch it refuses as busy stay at the head.

Spooled is not delivered. `write` returns once a batch is spooled, so the
sink keeps its own count of this process's events that are only spooled
(`held_events`), and of those replayed or refused later; the tracker reports
them as `spooled` rather than `delivered` in its stats, and `drain(timeout)`
(what `Tracker.flush` calls) waits for the replay and says False while some
are still held.
"""

from __future__ import annotations

import email.utils
import http.client
import logging
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from footfall.backoff import backoff_delay
from footfall.delivery.http_reply import body_events, body_of, verdict
from footfall.delivery.serialize import http_body
from footfall.delivery.spool import DEFAULT_SPOOL_BYTES, Spool
from footfall.errors import FootfallError
from footfall.event import Event
from footfall.redact import redact_url

__all__ = ["HttpSink", "HttpSinkError"]

DEFAULT_TIMEOUT = 10.0  # seconds per request
DEFAULT_RETRIES = 3  # attempts after the first, per request: 4 in all
DEFAULT_MAX_EVENTS = 500  # events per request
DEFAULT_MAX_BODY = 1_000_000  # bytes per request: the collector's default limit
MAX_REPLY = 1_000_000  # bytes of an answer read (its per-event errors stop at 100)
BACKOFF_BASE = 0.25  # seconds, doubled per attempt
MAX_INLINE_WAIT = 5.0  # longest single wait on the sending thread; longer -> spool
REPLAY_BACKOFF_BASE = 0.5  # seconds, doubled per failed replay
# Ceiling of the replay thread's backoff, and of a Retry-After it honours: a
# collector that is back gets the spool within this. One request per interval
# to a collector that is down costs it nothing.
REPLAY_MAX_INTERVAL = 5.0
DRAIN_RECHECK = 1.0  # seconds between drain's looks for batches another process replayed
GZIP_MAGIC = b"\x1f\x8b"  # a JSON body never starts with these bytes
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

log = logging.getLogger("footfall.delivery")


class HttpSinkError(FootfallError):
    """A request failed; `retryable` says whether sending it again could help.

    An error raised by `HttpSink.write` is always final (`retryable` False):
    the sink spent its own attempts. `events` are the events of the batch it
    did not deliver, so `on_failure` reports those and not the whole batch.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None,
        retryable: bool,
        wait: float = 0,
        events: Sequence[Event] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.wait = wait  # the collector's Retry-After, in seconds
        self.events = list(events) if events is not None else None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Answer every 3xx with an `HTTPError` instead of following it (with the token)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _endpoint(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"HttpSink needs an http(s) URL, got {redact_url(url)!r}")
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


def _refused(exc: urllib.error.HTTPError) -> HttpSinkError:
    if 300 <= exc.code < 400:
        target = redact_url(exc.headers.get("Location", ""))[:300] or "nowhere"
        return HttpSinkError(
            f"collector answered {exc.code}, a redirect to {target}: HttpSink does not follow "
            "redirects (the token would go along); configure the final URL",
            status=exc.code,
            retryable=False,
        )
    detail = exc.read(500).decode("utf-8", "replace")
    return HttpSinkError(
        f"collector answered {exc.code}: {detail}",
        status=exc.code,
        retryable=exc.code in RETRY_STATUSES,
        wait=retry_after(exc.headers.get("Retry-After")) or 0.0,
    )


@dataclass
class _Outcome:
    """What became of one chunk after every attempt."""

    unsent: list[Event] = field(default_factory=list)  # still owed: spool or report
    refused: list[Event] = field(default_factory=list)  # never to be accepted: report
    split: list[Event] = field(default_factory=list)  # too large for the collector: halve
    error: HttpSinkError | None = None  # why the unsent ones were not sent
    refusal: HttpSinkError | None = None  # why the refused ones were refused (the first)


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
        self.dropped = 0  # batches refused by a full spool (reported through on_failure)
        self.rejected = 0  # spooled batches (or parts) the collector refused, set aside
        # Events, counted for this process's batches only (another process sharing
        # the spool counts its own): spooled, then replayed or refused for good.
        self.spooled_events = 0
        self.replayed_events = 0
        self.rejected_events = 0
        self.held_events = 0  # spooled and not yet settled either way
        self._mine: dict[str, int] = {}  # spool file name -> events of it still held
        self._lock = threading.Lock()  # one request at a time: keeps the order
        self._settled = threading.Condition(self._lock)  # notified as held events settle
        self._kick = threading.Event()
        self._closed = threading.Event()
        self._next_try = 0.0  # monotonic time before which replay does not try
        self._failures = 0
        self._thread: threading.Thread | None = None
        if self.spool:
            self._start_replay()  # batches left by an earlier process

    # -- sending ----------------------------------------------------------------
    def _post(self, body: bytes, timeout: float | None = None) -> bytes:
        """One request; the answer's body (for its per-event errors) or HttpSinkError."""
        headers = {"Content-Type": "application/json", "User-Agent": "footfall-http-sink/1"}
        if body[:2] == GZIP_MAGIC:
            headers["Content-Encoding"] = "gzip"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(  # noqa: S310 - scheme checked in _endpoint
            self.url, data=body, headers=headers, method="POST"
        )
        try:
            with _opener.open(request, timeout=timeout or self.timeout) as response:
                return bytes(response.read(MAX_REPLY))
        except urllib.error.HTTPError as exc:
            error = _refused(exc)
            exc.close()
            raise error from None
        except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets
            raise HttpSinkError(
                f"collector unreachable: {exc}", status=None, retryable=True
            ) from exc

    def _send(self, chunk: list[Event], body: bytes) -> _Outcome:
        """Post `chunk`, then again only what is still owed, at most `1 + retries` times."""
        out = _Outcome()
        attempt = 0
        while True:
            try:
                reply = self._post(body)
            except HttpSinkError as exc:
                if exc.status == 413 and len(chunk) > 1:
                    out.split = chunk  # the collector's limit is lower than ours
                    return out
                if not exc.retryable:
                    out.refused += chunk
                    out.refusal = out.refusal or exc
                    return out
                error = exc
            else:
                found = verdict(reply, len(chunk))
                if found.refused:
                    out.refused += [chunk[i] for i in found.refused]
                    out.refusal = out.refusal or HttpSinkError(
                        f"collector refused {len(found.refused)} events: {found.reasons[0]}",
                        status=None,  # the answer gives no status per event
                        retryable=False,
                    )
                if not found.busy:
                    return out
                error = HttpSinkError(
                    f"collector busy: {len(found.busy)} of {len(chunk)} events refused "
                    "with 'queue full'",
                    status=503,
                    retryable=True,
                )
                chunk = [chunk[i] for i in found.busy]
                body = http_body(chunk, compress=self.compress)
            wait = error.wait or backoff_delay(attempt, base=BACKOFF_BASE, cap=self.max_inline_wait)
            if attempt >= self.retries or self._closed.is_set() or wait > self.max_inline_wait:
                out.unsent, out.error = chunk, error
                return out
            attempt += 1
            log.debug("footfall: HttpSink retry %d in %.2fs (%s)", attempt, wait, error)
            time.sleep(wait)

    def write(self, events: Sequence[Event]) -> None:
        """Deliver `events`; raise a final HttpSinkError naming the events it could not."""
        work = deque(
            list(events[i : i + self.max_events]) for i in range(0, len(events), self.max_events)
        )
        failed: list[Event] = []
        errors: list[HttpSinkError] = []
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
                    work.appendleft(chunk)
                    failed += self._to_spool(list(work), errors)
                    break
                out = self._send(chunk, body)
                if out.refusal is not None:
                    failed += out.refused
                    errors.append(out.refusal)
                if out.split:
                    work.extendleft(_halves(out.split))
                    continue
                if not out.unsent:
                    continue
                assert out.error is not None
                errors.append(out.error)
                if self.spool is None:  # the collector is down: the rest would fail alike
                    failed += out.unsent + [ev for c in work for ev in c]
                    break
                self._note_failure(out.error)
                failed += self._to_spool([out.unsent, *work], errors)
                break
        if failed:
            first = errors[0] if errors else None
            why = "; ".join(dict.fromkeys(str(e) for e in errors))  # distinct, in order
            raise HttpSinkError(
                f"{len(failed)} of {len(events)} events not delivered: {why[:1000]}",
                status=first.status if first else None,
                retryable=False,
                events=failed,
            )

    # -- spool and replay -----------------------------------------------------------
    def _to_spool(self, chunks: list[list[Event]], errors: list[HttpSinkError]) -> list[Event]:
        """Spool each chunk; return the events of those the spool refused."""
        assert self.spool is not None
        lost: list[Event] = []
        for chunk in chunks:
            path = self.spool.append(http_body(chunk, compress=self.compress))
            if path is not None:
                self.spooled += 1
                self.spooled_events += len(chunk)
                self.held_events += len(chunk)
                self._mine[path.name] = len(chunk)
                continue
            self.dropped += 1
            lost += chunk
        if lost:
            log.error(
                "footfall: HttpSink spool %s is full; %d events not held",
                self.spool.path,
                len(lost),
            )
            errors.append(
                HttpSinkError(f"spool {self.spool.path} is full", status=None, retryable=False)
            )
        self._start_replay()
        self._kick.set()
        return lost

    def _note_failure(self, exc: HttpSinkError) -> None:
        self._failures += 1
        cap = self.replay_max_interval
        wait = (
            min(exc.wait, cap)
            if exc.wait
            else backoff_delay(self._failures, base=REPLAY_BACKOFF_BASE, cap=cap)
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
                    self._forget_gone()  # ours that another process sent, if any
                    self._thread = None
                    return  # drained: the next spooled batch starts a new thread

    def _settle(self, path: Path, body: bytes, reply: bytes) -> bool:
        """Act on the answer to a replayed batch; False when the collector was busy."""
        assert self.spool is not None
        events = body_events(body) if b'"errors"' in reply else None
        found = verdict(reply, len(events)) if events is not None else None
        if events is None or not found:
            self.spool.remove(path)
            self._account(path.name, refused=0)
            return True
        compress = body[:2] == GZIP_MAGIC
        if found.refused:
            part = body_of([events[i] for i in found.refused], compress=compress)
            reason = "; ".join(sorted(set(found.reasons)))
            log.error(
                "footfall: HttpSink: collector refused %d spooled events (%s); kept in %s",
                len(found.refused),
                reason,
                self.spool.rejected_path,
            )
            if self.spool.reject_body(f"{path.stem}-refused", part, reason):
                self.rejected += 1
        if not found.busy:
            self.spool.remove(path)
            self._account(path.name, refused=len(found.refused))
            return True
        self.spool.replace(path, body_of([events[i] for i in found.busy], compress=compress))
        self._account(path.name, refused=len(found.refused), busy=len(found.busy))
        self._note_failure(
            HttpSinkError(
                f"collector busy: {len(found.busy)} spooled events refused with 'queue full'",
                status=503,
                retryable=True,
            )
        )
        return False

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
            timeout = None
            if deadline is not None:  # the last tries at close: no request outlives it
                timeout = max(0.1, min(self.timeout, deadline - time.monotonic()))
            with self._lock:
                try:
                    reply = self._post(body, timeout)
                except HttpSinkError as exc:
                    if exc.retryable:
                        self._note_failure(exc)
                        break
                    log.error("footfall: HttpSink: collector refused spooled %s: %s", path, exc)
                    self.spool.reject(path, str(exc))
                    self.rejected += 1
                    self._account(path.name, refused=None)
                    continue
                if not self._settle(path, body, reply):
                    break
                self._failures = 0
                self._next_try = 0.0
                sent += 1
        if sent:
            log.info("footfall: HttpSink replayed %d spooled batches", sent)
        return sent

    # -- what became of the spooled events ---------------------------------------------
    def _account(self, name: str, *, refused: int | None, busy: int = 0) -> None:
        """Settle this process's events of spool file `name` (under the lock).

        `refused` of them were refused for good (None: all), `busy` are still
        held (rewritten in place), the rest were delivered. Another process's
        file is its own tracker's to count.
        """
        held = self._mine.pop(name, None)
        if held is None:
            return
        refused = held if refused is None else min(refused, held)
        busy = min(busy, held - refused)
        if busy:
            self._mine[name] = busy
        self.rejected_events += refused
        self.replayed_events += held - refused - busy
        self.held_events -= refused + (held - refused - busy)
        self._settled.notify_all()

    def _forget_gone(self) -> None:
        """Settle our spooled files that another process sharing the spool replayed."""
        assert self.spool is not None
        for name in list(self._mine):
            if not (self.spool.path / name).exists():
                set_aside = (self.spool.rejected_path / name).exists()
                self._account(name, refused=None if set_aside else 0)

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every event this process spooled is delivered or refused for good.

        What `Tracker.flush` calls after its queue is empty: events that are
        only spooled have not reached the collector, so this returns False
        when `timeout` runs out first (None: wait for the collector however
        long it takes). The replay thread does the sending, within
        `replay_max_interval` of the collector's return.
        """
        if self.spool is None:
            return True
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._settled:
            while self._mine:
                self._forget_gone()
                if not self._mine:
                    break
                self._start_replay()
                self._kick.set()
                left = DRAIN_RECHECK if deadline is None else deadline - time.monotonic()
                if left <= 0:
                    return False
                self._settled.wait(min(left, DRAIN_RECHECK))
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Stop the replay thread; give the spool one last bounded chance to drain.

        That last try ignores the replay's backoff: a collector that came back
        since the last try still gets the batches now rather than from the
        next process that opens the spool.
        """
        deadline = time.monotonic() + timeout
        self._closed.set()
        self._kick.set()
        thread = self._thread
        if thread is not None:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self.spool and time.monotonic() < deadline:
            self.replay(deadline)
        if self.spool:
            log.warning(
                "footfall: HttpSink closed with %d batches spooled in %s (sent on next start)",
                len(self.spool),
                self.spool.path,
            )

    def __repr__(self) -> str:
        return f"HttpSink({redact_url(self.url)!r})"
