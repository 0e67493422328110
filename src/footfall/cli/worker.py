"""`footfall worker`: store what `RedisSink` appends to a Redis Stream.

Run as many as you like against one stream and group; each needs a unique
`--consumer` name (the default, host-pid, is). SIGINT or SIGTERM lets the
batch in hand be stored and acknowledged before exiting; a second signal
exits at once (nothing is lost either way: unacknowledged entries stay
pending and another worker claims them after `--claim-idle-ms`).
"""

from __future__ import annotations

import signal
from types import FrameType

import click

from footfall import settings
from footfall.cli.open_store import open_store
from footfall.cli.options import db_option
from footfall.delivery import stream_worker as sw
from footfall.delivery.redis_sink import redis_client
from footfall.redact import redact_url

__all__ = ["register", "worker"]


@click.command()
@click.option(
    "--redis",
    "redis_url",
    default=settings.REDIS,
    show_default=f"$FOOTFALL_REDIS or {settings.REDIS.default}",
    help="Redis URL.",
)
@click.option(
    "--stream",
    default=settings.STREAM,
    show_default=f"$FOOTFALL_STREAM or {settings.STREAM.default}",
    help="Stream name.",
)
@db_option
@click.option("--group", default=sw.DEFAULT_GROUP, show_default=True, help="Consumer group.")
@click.option("--consumer", help="Consumer name, unique per worker. [default: host-pid]")
@click.option(
    "--batch",
    default=None,
    type=click.IntRange(1, 10_000),
    help="Stream entries (sink batches) stored per transaction. "
    f"[default: {sw.DEFAULT_BATCH}; ClickHouse: 50, for ~50,000-event inserts]",
)
@click.option(
    "--block-ms",
    default=sw.DEFAULT_BLOCK_MS,
    show_default=True,
    type=click.IntRange(1, 60_000),
    help="Longest wait for new entries (also the longest delay before a stop).",
)
@click.option(
    "--claim-idle-ms",
    default=sw.DEFAULT_CLAIM_IDLE_MS,
    show_default=True,
    type=click.IntRange(0, None),
    help="Claim other consumers' entries pending longer than this.",
)
@click.option(
    "--claim-interval",
    default=sw.DEFAULT_CLAIM_INTERVAL,
    show_default=True,
    type=click.FloatRange(0.01, 3_600),
    help="Seconds between sweeps for other consumers' idle entries.",
)
@click.option(
    "--max-deliveries",
    default=sw.DEFAULT_MAX_DELIVERIES,
    show_default=True,
    type=click.IntRange(1, None),
    help="Dead-letter an entry handed out this often without being stored.",
)
@click.option(
    "--keep-acked",
    is_flag=True,
    help="Do not delete stored entries (when other consumer groups read the stream too).",
)
@click.option("--burst", is_flag=True, help="Exit once the stream is drained.")
def worker(
    redis_url: str,
    stream: str,
    db_url: str,
    group: str,
    consumer: str | None,
    batch: int | None,
    block_ms: int,
    claim_idle_ms: int,
    claim_interval: float,
    max_deliveries: int,
    keep_acked: bool,
    burst: bool,
) -> None:
    """Store events from a Redis Stream (written by RedisSink) into the store."""
    # The worker stores events only (the collector enriched them): no --meta needed.
    store = open_store(db_url, create=True, need_meta=False)
    client = redis_client(redis_url)
    consumer_ = sw.StreamWorker(
        client,
        store,
        stream,
        group=group,
        consumer=consumer,
        batch=batch,
        block_ms=block_ms,
        claim_idle_ms=claim_idle_ms,
        claim_interval=claim_interval,
        max_deliveries=max_deliveries,
        delete_acked=not keep_acked,
    )

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if consumer_.stopping:
            raise SystemExit(128 + signum)  # second signal: the user means it
        consumer_.stop()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    click.echo(
        f"footfall worker {consumer_.consumer}: stores stream {stream!r} at "
        f"{redact_url(redis_url)}, group {group!r}",
        err=True,
    )
    try:
        stats = consumer_.run(burst=burst)
    finally:
        client.close()
        store.close()
    click.echo(f"footfall worker {consumer_.consumer}: {stats.summary()}", err=True)


def register(group: click.Group) -> None:
    group.add_command(worker)
