"""`RedisSink`: append each batch to a Redis Stream for `footfall worker` to store.

Snowplow's RedisEmitter pushed to a list; a stream is better because a
consumer group gives every worker its own share, remembers what was handed
out but not acknowledged, and lets a survivor claim a dead worker's share.

One batch is one stream entry (not one entry per event): XADD costs about
the same for 1 event as for 500, so batching is what makes the append rate
high. The entry carries the encoding name and the event count beside the
payload, so workers can reject a format they do not know instead of
misreading it.

`maxlen` caps the stream (approximately, `MAXLEN ~`, so Redis trims whole
macro-nodes cheaply). The cap counts entries, i.e. batches. It is a safety
net for when no worker runs: trimming removes entries whether or not they
were consumed, so size it for the longest outage you want to survive.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from footfall import settings
from footfall.delivery.serialize import FORMAT_MSGPACK, encode_batch
from footfall.errors import ConfigurationError
from footfall.event import Event
from footfall.redact import redact_url

if TYPE_CHECKING:
    import redis

__all__ = ["DEFAULT_MAXLEN", "DEFAULT_STREAM", "RedisSink", "redis_client"]

DEFAULT_STREAM = settings.STREAM.default  # "footfall", where `footfall worker` reads
DEFAULT_MAXLEN = 100_000  # entries (batches); ~1e7-1e8 events before trimming bites
SOCKET_TIMEOUT = 10.0  # seconds; a hung Redis fails the write, the dispatcher retries

log = logging.getLogger("footfall.delivery")


def redis_client(url: str, **kwargs: Any) -> redis.Redis:
    """A bytes-mode client for `url`, or a clear error when redis-py is missing."""
    try:
        import redis
    except ImportError as exc:
        raise ConfigurationError(
            f"the Redis transport needs `pip install 'footfall[redis]'` ({exc})"
        ) from exc
    kwargs.setdefault("socket_timeout", SOCKET_TIMEOUT)
    kwargs.setdefault("socket_connect_timeout", SOCKET_TIMEOUT)
    kwargs.setdefault("health_check_interval", 30)
    return redis.Redis.from_url(url, decode_responses=False, **kwargs)


class RedisSink:
    """A sink that XADDs one MessagePack-encoded entry per batch.

    Raising on a Redis error is deliberate: the dispatcher retries the batch
    with backoff, and an event is only counted as delivered once Redis holds
    it.
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        stream: str = DEFAULT_STREAM,
        *,
        maxlen: int | None = DEFAULT_MAXLEN,
        approximate: bool = True,
        client: redis.Redis | None = None,
    ) -> None:
        if not stream:
            raise ConfigurationError("RedisSink needs a stream name")
        if maxlen is not None and maxlen < 1:
            raise ConfigurationError("maxlen must be positive (or None for no cap)")
        self.url = url
        self.stream = stream
        self.maxlen = maxlen
        self.approximate = approximate
        self._own_client = client is None
        self.client = client if client is not None else redis_client(url)

    def write(self, events: Sequence[Event]) -> None:
        if not events:
            return
        fields: dict[Any, Any] = {
            b"fmt": FORMAT_MSGPACK,
            b"n": len(events),
            b"events": encode_batch(events, FORMAT_MSGPACK),
        }
        self.client.xadd(self.stream, fields, maxlen=self.maxlen, approximate=self.approximate)

    def close(self) -> None:
        if self._own_client:
            self.client.close()

    def __repr__(self) -> str:
        where = f"{redact_url(self.url)!r}, " if self._own_client else ""
        return f"RedisSink({where}stream={self.stream!r})"
