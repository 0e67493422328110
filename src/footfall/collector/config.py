"""Collector settings, read once per server process from the environment.

`footfall serve` runs uvicorn workers in separate processes, so settings
travel as environment variables (like `FOOTFALL_DB`, read and checked by
`footfall.settings`; all of them are in docs/configuration.md); tests build a
`CollectorConfig` directly.

- `FOOTFALL_RATE_LIMIT` (`50/200`): per-IP token bucket, `rate/burst` requests
  per second; `0` or `off` disables it.
- `FOOTFALL_TRUSTED_PROXIES` (`0`): reverse proxies in front; the client IP is
  taken that many hops from the right of `X-Forwarded-For` (the rule, shared
  with the integrations and the dashboard's login limiter: `footfall.clientip`).
- `FOOTFALL_DEDUPE_SECONDS` (`0` = off): identical anonymous page views from
  one visitor within this window count once.
- `FOOTFALL_SCHEMAS`: folder of JSON schemas for self-describing events.
- `FOOTFALL_SCHEMAS_STRICT` (`0`): `1` sends events with an unknown schema to
  failed events.
- `FOOTFALL_SITE_CACHE_SECONDS` (`5`): how long site and token look-ups are
  cached in-process.
- `FOOTFALL_ADMIT_DEPTH` (`10000`): queued events above which new ingest
  requests wait for room (see `footfall.collector.admission`).
- `FOOTFALL_ADMIT_WAIT` (`5`): seconds a request waits at most; `0` turns the
  wait off (a full queue then answers 503 at once).
- `FOOTFALL_FAILED_BYTES` (`1000000`): bytes of failed events one anonymous
  client address may have kept per hour (a token bucket); past it, its
  failures are dropped with a reason. `0` keeps none from anonymous senders.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from footfall import settings
from footfall.collector.admission import DEFAULT_ADMIT_DEPTH, DEFAULT_ADMIT_WAIT

__all__ = ["DEFAULT_FAILED_BYTES", "MAX_BODY_BYTES", "MAX_EVENTS", "CollectorConfig"]

MAX_BODY_BYTES = 1_000_000  # one request body, before parsing
MAX_EVENTS = 1_000  # events in one request
# Failed-event bytes per anonymous client per hour: 1,000,000.
DEFAULT_FAILED_BYTES = settings.FAILED_BYTES.default


@dataclass(frozen=True)
class CollectorConfig:
    """What the collector enforces; see the module docstring for the env names."""

    # Built directly, a config has the defaults an empty environment gives.
    rate: float = settings.RATE_LIMIT.default[0]  # requests per second per IP (0: no limit)
    burst: float = settings.RATE_LIMIT.default[1]
    trusted_proxies: int = settings.TRUSTED_PROXIES.default
    dedupe_seconds: float = settings.DEDUPE_SECONDS.default
    schemas_dir: str | None = None
    strict_schemas: bool = settings.SCHEMAS_STRICT.default
    site_cache_seconds: float = settings.SITE_CACHE_SECONDS.default
    max_body_bytes: int = MAX_BODY_BYTES
    max_events: int = MAX_EVENTS
    admit_depth: int = DEFAULT_ADMIT_DEPTH
    admit_wait: float = DEFAULT_ADMIT_WAIT
    failed_bytes: int = DEFAULT_FAILED_BYTES

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, schemas_dir: str | None = None
    ) -> CollectorConfig:
        """The settings from `env` (default: the process environment)."""
        rate, burst = settings.RATE_LIMIT(env)
        return cls(
            rate=rate,
            burst=burst,
            trusted_proxies=settings.TRUSTED_PROXIES(env),
            dedupe_seconds=settings.DEDUPE_SECONDS(env),
            schemas_dir=schemas_dir or settings.SCHEMAS(env),
            strict_schemas=settings.SCHEMAS_STRICT(env),
            site_cache_seconds=settings.SITE_CACHE_SECONDS(env),
            admit_depth=settings.ADMIT_DEPTH(env),
            admit_wait=settings.ADMIT_WAIT(env),
            failed_bytes=settings.FAILED_BYTES(env),
        )
