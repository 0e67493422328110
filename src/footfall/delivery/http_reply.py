"""What a collector's 2xx answer says about each event of the request `HttpSink` sent.

`POST /api/event` answers 202 as soon as one event was accepted, and lists
the others in `errors` (`footfall.collector.ingest.IngestResult.as_dict`):
`{"accepted": n, "rejected": m, "errors": [{"index", "field", "reason",
"kept"?}]}`. A 202 is therefore not "every event delivered". Each listed
event is one of:

* busy: its queue was full (`"server busy, queue full"`, HTTP 503 per
  event). Sending it again later will work: the sink retries or spools it.
* kept: refused by a schema but stored among the collector's failed events,
  where `footfall failed` can retry it. The sink is done with it.
* refused: anything else (a bad field, an unknown site). It will never be
  accepted: the sink reports it.

The answer lists the first 100 errors only. When it says more were rejected
than it lists, the events after the last listed one have an unknown fate and
count as busy: sent again, an accepted one is a duplicate the store drops
by id. A 2xx body that is not such an answer (a proxy's empty 204) means
every event was taken.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field

import msgspec

from footfall.delivery.serialize import GZIP_LEVEL

__all__ = ["BUSY_REASON", "Verdict", "body_events", "body_of", "verdict"]

BUSY_REASON = "queue full"  # in the collector's reason for a per-event 503
GZIP_MAGIC = b"\x1f\x8b"


class _Error(msgspec.Struct):
    index: int
    field: str = ""
    reason: str = ""
    kept: bool = False


class _Answer(msgspec.Struct):
    accepted: int = 0
    rejected: int = 0
    errors: list[_Error] = msgspec.field(default_factory=list)


class _Body(msgspec.Struct):
    events: list[msgspec.Raw]


_answer = msgspec.json.Decoder(_Answer)
_body = msgspec.json.Decoder(_Body)


@dataclass
class Verdict:
    """Positions (in the request) of the events that were not taken."""

    busy: list[int] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # one per refused event

    def __bool__(self) -> bool:
        return bool(self.busy or self.refused)


def verdict(reply: bytes, n: int) -> Verdict:
    """Sort the events of a request of `n` events by what the collector's answer says."""
    out = Verdict()
    if b'"errors"' not in reply:  # the common case, without decoding: all taken
        return out
    try:
        answer = _answer.decode(reply)
    except msgspec.DecodeError:  # not footfall's answer: nothing to act on
        return out
    listed: set[int] = set()
    for err in answer.errors:
        if not 0 <= err.index < n or err.index in listed:
            continue
        listed.add(err.index)
        if err.kept:
            continue
        if BUSY_REASON in err.reason:
            out.busy.append(err.index)
        else:
            out.refused.append(err.index)
            out.reasons.append(f"{err.field} {err.reason}".strip())
    if answer.rejected > len(listed):
        out.busy += range(max(listed, default=-1) + 1, n)
    return out


def body_events(body: bytes) -> list[msgspec.Raw] | None:
    """The events of a request body, each as its raw JSON; None if it is not one."""
    try:
        raw = gzip.decompress(body) if body[:2] == GZIP_MAGIC else body
        return _body.decode(raw).events
    except (OSError, EOFError, msgspec.DecodeError):
        return None


def body_of(events: list[msgspec.Raw], *, compress: bool) -> bytes:
    """A request body holding `events` (raw JSON, unchanged), as `http_body` would build it."""
    raw = b'{"events":[' + b",".join(bytes(e) for e in events) + b"]}"
    return gzip.compress(raw, compresslevel=GZIP_LEVEL, mtime=0) if compress else raw
