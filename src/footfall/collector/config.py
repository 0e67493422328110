"""Collector settings, read once per server process from the environment.

`footfall serve` runs uvicorn workers in separate processes, so settings
travel as environment variables (like `FOOTFALL_DB`); tests build a
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

import os
from collections.abc import Mapping
from dataclasses import dataclass

from footfall.clientip import trusted_proxies_from_env
from footfall.collector.admission import DEFAULT_ADMIT_DEPTH, DEFAULT_ADMIT_WAIT

__all__ = ["DEFAULT_FAILED_BYTES", "MAX_BODY_BYTES", "MAX_EVENTS", "CollectorConfig"]

MAX_BODY_BYTES = 1_000_000  # one request body, before parsing
MAX_EVENTS = 1_000  # events in one request
DEFAULT_FAILED_BYTES = 1_000_000  # failed-event bytes per anonymous client per hour


def _rate(text: str) -> tuple[float, float]:
    text = text.strip().lower()
    if text in ("", "0", "off", "none", "false"):
        return 0.0, 0.0
    rate_s, _, burst_s = text.partition("/")
    rate = float(rate_s)
    burst = float(burst_s) if burst_s else max(rate * 2, 1.0)
    if rate < 0 or burst < 1:
        raise ValueError(f"FOOTFALL_RATE_LIMIT must look like 50/200, not {text!r}")
    return rate, burst


def _failed_bytes(text: str) -> int:
    text = text.strip().replace("_", "")
    if not text:
        return DEFAULT_FAILED_BYTES
    if not text.isdigit():
        raise ValueError(f"FOOTFALL_FAILED_BYTES must be a number of bytes, not {text!r}")
    return int(text)


@dataclass(frozen=True)
class CollectorConfig:
    """What the collector enforces; see the module docstring for the env names."""

    rate: float = 50.0  # requests per second per IP (0: no limit)
    burst: float = 200.0
    trusted_proxies: int = 0
    dedupe_seconds: float = 0.0
    schemas_dir: str | None = None
    strict_schemas: bool = False
    site_cache_seconds: float = 5.0
    max_body_bytes: int = MAX_BODY_BYTES
    max_events: int = MAX_EVENTS
    admit_depth: int = DEFAULT_ADMIT_DEPTH
    admit_wait: float = DEFAULT_ADMIT_WAIT
    failed_bytes: int = DEFAULT_FAILED_BYTES

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, schemas_dir: str | None = None
    ) -> CollectorConfig:
        e = os.environ if env is None else env
        rate, burst = _rate(e.get("FOOTFALL_RATE_LIMIT", "50/200"))
        return cls(
            rate=rate,
            burst=burst,
            trusted_proxies=trusted_proxies_from_env(e),
            dedupe_seconds=float(e.get("FOOTFALL_DEDUPE_SECONDS", "0") or 0),
            schemas_dir=schemas_dir or e.get("FOOTFALL_SCHEMAS") or None,
            strict_schemas=e.get("FOOTFALL_SCHEMAS_STRICT", "0").lower() in ("1", "true", "yes"),
            site_cache_seconds=float(e.get("FOOTFALL_SITE_CACHE_SECONDS", "5") or 5),
            admit_depth=int(e.get("FOOTFALL_ADMIT_DEPTH", "") or DEFAULT_ADMIT_DEPTH),
            admit_wait=float(e.get("FOOTFALL_ADMIT_WAIT", "") or DEFAULT_ADMIT_WAIT),
            failed_bytes=_failed_bytes(e.get("FOOTFALL_FAILED_BYTES", "")),
        )
