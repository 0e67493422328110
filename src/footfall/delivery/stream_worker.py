"""`StreamWorker`: Redis Stream -> store, at least once, behind `footfall worker`.

The rules that make it safe to kill at any moment:

* Entries are read through a consumer group (XREADGROUP), so several
  workers share one stream and Redis remembers, per worker, what it handed
  out and was not acknowledged (the pending entries list).
* An entry is acknowledged (XACK) only after the store committed its events.
  A worker that dies between commit and ack leaves the entry pending; whoever
  stores it again is harmless because stores drop duplicate event ids.
* On start a worker first re-reads its own pending entries (id `0`), then new
  ones (`>`). Every `claim_interval` it takes over entries that another
  worker has held for longer than `claim_idle` (XAUTOCLAIM): that is how the
  share of a killed worker gets stored.
* A store error that looks transient (connection lost, locked) keeps the batch
  in memory and retries it with backoff; it is never acknowledged unstored.
* A poison entry (unknown format, undecodable payload, refused by the store
  as bad data, or handed out `max_deliveries` times without being acked) is
  copied with its reason to the dead-letter stream `<stream>:dead` and
  acknowledged, so one bad entry never blocks the stream.
* `stop()` (the CLI calls it on SIGINT/SIGTERM) lets the current batch finish,
  store and ack, and then `run()` returns.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from footfall.backoff import backoff_delay
from footfall.delivery.serialize import BatchDecodeError, decode_batch
from footfall.delivery.worker import DEFAULT_BATCH_SIZE
from footfall.errors import ValidationError
from footfall.event import Event

if TYPE_CHECKING:
    import redis

    from footfall.stores.base import Store

__all__ = ["StreamWorker", "WorkerStats", "default_batch", "is_data_error"]

DEFAULT_GROUP = "footfall"
DEFAULT_BATCH = 10  # entries per read; each entry is a whole sink batch
DEFAULT_BLOCK_MS = 1_000  # longest wait for new entries; also the stop latency
DEFAULT_CLAIM_IDLE_MS = 60_000  # an entry pending this long belongs to a dead worker
DEFAULT_CLAIM_INTERVAL = 5.0  # seconds between XAUTOCLAIM sweeps
DEFAULT_MAX_DELIVERIES = 10  # handed out this often unacked: poison
DEAD_MAXLEN = 100_000  # entries kept in the dead-letter stream
FORGET_IDLE_MS = 24 * 3_600_000  # a consumer silent this long, holding nothing, is gone
BACKOFF_BASE = 0.25  # seconds; the first retry waits 0.25-0.5 s
# Seconds between retries of a store or Redis that is down, at most: also how
# late a worker may notice that it is back, while the stream grows.
BACKOFF_MAX = 10.0

log = logging.getLogger("footfall.worker")


def default_batch(store: Store) -> int:
    """Entries per read for `store`: DEFAULT_BATCH, or more for a store that wants big writes.

    An entry is one sink batch, DEFAULT_BATCH_SIZE events at most from the
    in-process trackers; a store with a `preferred_batch_size` (ClickHouse:
    50,000) gets enough entries per read to make one insert of about that
    many.
    """
    hint = store.preferred_batch_size
    if not hint:
        return DEFAULT_BATCH
    return max(DEFAULT_BATCH, int(hint) // DEFAULT_BATCH_SIZE)


Entry = tuple[bytes, dict[bytes, bytes]]

# Exception class names (any database driver) that mean "this data is bad",
# not "the database is unavailable": retrying them would loop forever.
_DATA_ERROR_NAMES = frozenset(
    {"DataError", "IntegrityError", "ValidationError", "OverflowError", "NumericValueOutOfRange"}
)


def is_data_error(exc: BaseException) -> bool:
    """Whether `exc` says the batch itself is wrong (dead-letter) rather than the store down."""
    if getattr(exc, "retryable", None) is False or isinstance(exc, ValidationError):
        return True
    return any(cls.__name__ in _DATA_ERROR_NAMES for cls in type(exc).__mro__)


@dataclass
class WorkerStats:
    """What one worker did; printed by the CLI when it exits."""

    entries: int = 0  # stream entries acknowledged after storing
    events: int = 0  # events in those entries
    stored: int = 0  # events the store had not seen before
    claimed: int = 0  # entries taken over from other consumers
    dead: int = 0  # entries sent to the dead-letter stream
    store_errors: int = 0  # failed store writes (each retried)
    started: float = field(default_factory=time.monotonic)

    def summary(self) -> str:
        took = max(time.monotonic() - self.started, 1e-9)
        return (
            f"{self.events:,} events in {self.entries:,} entries stored "
            f"({self.stored:,} new, {self.events - self.stored:,} duplicates), "
            f"{self.claimed:,} claimed, {self.dead:,} dead-lettered, "
            f"{self.store_errors:,} store errors, {self.events / took:,.0f} events/s"
        )


def default_consumer() -> str:
    import os

    return f"{socket.gethostname()}-{os.getpid()}"


class StreamWorker:
    """Consumes one stream through one consumer group and writes to one store."""

    def __init__(
        self,
        client: redis.Redis,
        store: Store,
        stream: str,
        *,
        group: str = DEFAULT_GROUP,
        consumer: str | None = None,
        batch: int | None = None,
        block_ms: int = DEFAULT_BLOCK_MS,
        claim_idle_ms: int = DEFAULT_CLAIM_IDLE_MS,
        claim_interval: float = DEFAULT_CLAIM_INTERVAL,
        max_deliveries: int = DEFAULT_MAX_DELIVERIES,
        delete_acked: bool = True,
        forget_idle_ms: int = FORGET_IDLE_MS,
    ) -> None:
        if batch is None:
            batch = default_batch(store)
        if batch < 1 or block_ms < 1 or claim_idle_ms < 0 or max_deliveries < 1:
            raise ValueError("batch, block_ms and max_deliveries must be positive")
        self.client = client
        self.store = store
        self.stream = stream
        self.dead_stream = f"{stream}:dead"
        self.group = group
        self.consumer = consumer or default_consumer()
        self.batch = batch
        self.block_ms = block_ms
        self.claim_idle_ms = claim_idle_ms
        self.claim_interval = claim_interval
        self.max_deliveries = max_deliveries
        # Deleting acked entries keeps Redis memory flat; turn it off when
        # another consumer group reads the same stream.
        self.delete_acked = delete_acked
        # Default consumer names change with every restart (host-pid), so the
        # group would list every worker that ever ran; silent, empty-handed
        # ones are removed. A live worker reads every `block_ms`, never idles.
        self.forget_idle_ms = forget_idle_ms
        self.stats = WorkerStats()
        self._stop = threading.Event()

    # -- control --------------------------------------------------------------
    def stop(self) -> None:
        """Finish the batch in hand, then return from `run` (signal-handler safe)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def ensure_group(self) -> None:
        """Create the stream and the group if missing; a new group starts at the beginning."""
        import redis

        try:
            self.client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def run(self, *, burst: bool = False) -> WorkerStats:
        """Consume until `stop()`; with `burst`, also return once nothing is left."""
        import redis

        history = True  # our own pending entries first: we may be a restart
        ready = False
        next_claim = 0.0
        failures = 0
        while not self._stop.is_set():
            try:
                if not ready:  # Redis may come up after us
                    self.ensure_group()
                    ready = True
                if time.monotonic() >= next_claim:
                    self.claim()
                    next_claim = time.monotonic() + self.claim_interval
                if history:
                    entries = self._read("0")
                    if entries:
                        self.handle(self._drop_overdelivered(entries))
                    else:
                        history = False
                    failures = 0
                    continue
                entries = self._read(">")
                failures = 0
                if entries:
                    self.handle(entries)
                elif burst and self._idle():
                    break
            except redis.ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                log.warning("footfall worker: group vanished (%s); recreating it", exc)
                self.ensure_group()
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                # Whatever was stored but not acknowledged is still pending for
                # us: re-read it first (the store drops the duplicates).
                history = True
                failures += 1
                delay = backoff_delay(failures, base=BACKOFF_BASE, cap=BACKOFF_MAX)
                log.warning("footfall worker: Redis unavailable (%s); retry in %.1fs", exc, delay)
                self._stop.wait(delay)
        return self.stats

    # -- reading --------------------------------------------------------------
    def _read(self, start: str) -> list[Entry]:
        block = None if start == "0" else self.block_ms
        reply = self.client.xreadgroup(
            self.group, self.consumer, {self.stream: start}, count=self.batch, block=block
        )
        return _entries(reply)

    def _idle(self) -> bool:
        """Nothing pending for the whole group (burst mode's exit test)."""
        info: Any = self.client.xpending(self.stream, self.group)
        return not int(info.get("pending", 0) if isinstance(info, dict) else info[0])

    def claim(self) -> int:
        """Take over entries idle longer than `claim_idle_ms` and store them now."""
        start: Any = "0-0"
        claimed = 0
        for _ in range(100):  # bounded sweep; the next interval continues it
            reply: Any = self.client.xautoclaim(
                self.stream,
                self.group,
                self.consumer,
                self.claim_idle_ms,
                start_id=start,
                count=self.batch,
            )
            start, raw = reply[0], reply[1]
            entries: list[Entry] = [(i, f or {}) for i, f in raw]
            trimmed = reply[2] if len(reply) > 2 else []
            if trimmed:  # Redis already dropped them from the pending list
                log.error(
                    "footfall worker: %d pending entries were trimmed (MAXLEN) before "
                    "being stored; raise the sink's maxlen or run more workers",
                    len(trimmed),
                )
            if entries:
                claimed += len(entries)
                log.info("footfall worker %s: claimed %d idle entries", self.consumer, len(entries))
                self.handle(self._drop_overdelivered(entries))
            if start in (b"0-0", "0-0") or self._stop.is_set():
                break
        self.stats.claimed += claimed
        self.forget_consumers()
        return claimed

    def forget_consumers(self) -> list[str]:
        """Delete consumers idle past `forget_idle_ms` that hold no pending entry."""
        gone: list[str] = []
        for info in self.client.xinfo_consumers(self.stream, self.group):
            name = info["name"]
            name = name.decode() if isinstance(name, bytes) else str(name)
            if name == self.consumer or int(info["pending"]) or info["idle"] < self.forget_idle_ms:
                continue
            # DELCONSUMER drops the consumer's pending entries too: re-check
            # atomically that it still holds none (it may have come back).
            if int(self.client.eval(_FORGET_SCRIPT, 1, self.stream, self.group, name)):
                gone.append(name)
        if gone:
            log.info("footfall worker: forgot idle consumers %s", ", ".join(gone))
        return gone

    def _drop_overdelivered(self, entries: list[Entry]) -> list[Entry]:
        """Dead-letter entries handed out too often (they keep killing workers)."""
        if not entries:
            return entries
        ids = sorted((e[0] for e in entries), key=_id_key)  # "5-10" sorts after "5-9"
        pending: Any = self.client.xpending_range(
            self.stream,
            self.group,
            min=ids[0],
            max=ids[-1],
            count=len(ids) * 2 + 10,  # our other pending entries may lie in between
            consumername=self.consumer,
        )
        counts = {p["message_id"]: int(p["times_delivered"]) for p in pending}
        keep: list[Entry] = []
        for entry in entries:
            n = counts.get(entry[0], 0)
            if n > self.max_deliveries:
                self._dead_letter(entry, f"delivered {n} times without being stored")
            else:
                keep.append(entry)
        return keep

    # -- storing --------------------------------------------------------------
    def handle(self, entries: Sequence[Entry]) -> None:
        """Decode, store and acknowledge a group of entries (retrying while the store is down)."""
        good: list[tuple[Entry, list[Event]]] = []
        for entry in entries:
            try:
                good.append((entry, _decode(entry[1])))
            except BatchDecodeError as exc:
                self._dead_letter(entry, exc.reason)
        if good:
            self._store(good)

    def _store(self, good: list[tuple[Entry, list[Event]]]) -> None:
        events = [ev for _, evs in good for ev in evs]
        attempt = 0
        while True:
            try:
                new = self.store.write(events)
                break
            except Exception as exc:
                self.stats.store_errors += 1
                if is_data_error(exc):
                    if len(good) > 1:  # find the bad entry; store the rest
                        for one in good:
                            self._store([one])
                        return
                    self._dead_letter(good[0][0], f"store refused the batch: {exc}")
                    return
                attempt += 1
                delay = backoff_delay(attempt, base=BACKOFF_BASE, cap=BACKOFF_MAX)
                log.warning(
                    "footfall worker: store write failed (%s); retry %d in %.1fs",
                    exc,
                    attempt,
                    delay,
                )
                if self._stop.wait(delay):
                    # Shutting down with the store still failing: leave the
                    # entries pending; a restart or another worker stores them.
                    log.warning(
                        "footfall worker: stopping with %d entries unstored (still pending)",
                        len(good),
                    )
                    return
        self._ack([e[0] for e, _ in good])
        self.stats.entries += len(good)
        self.stats.events += len(events)
        self.stats.stored += int(new or 0)

    def _ack(self, ids: Sequence[bytes]) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.xack(self.stream, self.group, *ids)
        if self.delete_acked:
            pipe.xdel(self.stream, *ids)
        pipe.execute()

    def _dead_letter(self, entry: Entry, reason: str) -> None:
        entry_id, fields = entry
        log.error("footfall worker: entry %s dead-lettered: %s", entry_id.decode(), reason)
        record: dict[Any, Any] = {
            b"reason": reason[:2_000],
            b"entry_id": entry_id,
            b"stream": self.stream,
            b"consumer": self.consumer,
            b"ts": str(int(time.time())),
        }
        for key, value in (fields or {}).items():
            record[b"orig:" + key] = value
        pipe = self.client.pipeline(transaction=True)
        pipe.xadd(self.dead_stream, record, maxlen=DEAD_MAXLEN, approximate=True)
        pipe.xack(self.stream, self.group, entry_id)
        if self.delete_acked:
            pipe.xdel(self.stream, entry_id)
        pipe.execute()
        self.stats.dead += 1


# Delete a consumer only if it still has nothing pending (atomic in Redis).
_FORGET_SCRIPT = """
local n = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if #n > 0 then return 0 end
redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
return 1
"""


def _entries(reply: Any) -> list[Entry]:
    """XREADGROUP's reply (RESP2 list or RESP3 dict) as a flat list of entries."""
    if not reply:
        return []
    streams = reply.items() if isinstance(reply, dict) else reply
    out: list[Entry] = []
    for _name, items in streams:
        if items and isinstance(items[0], list):
            items = items[0]  # RESP3 wraps the entries once more
        out.extend((i, f or {}) for i, f in items)
    return out


def _decode(fields: dict[bytes, bytes]) -> list[Event]:
    if not fields:
        raise BatchDecodeError("entry has no fields")
    fmt = fields.get(b"fmt")
    payload = fields.get(b"events")
    if fmt is None or payload is None:
        raise BatchDecodeError("entry lacks the `fmt` or `events` field")
    try:
        name = fmt.decode("ascii")
    except UnicodeDecodeError:
        raise BatchDecodeError("entry's `fmt` is not ASCII") from None
    return decode_batch(payload, name)


def _id_key(entry_id: bytes) -> tuple[int, int]:
    ms, _, seq = entry_id.partition(b"-")
    return int(ms), int(seq or 0)
