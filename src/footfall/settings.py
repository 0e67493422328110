"""Every `FOOTFALL_*` environment variable, read and checked in one place.

`footfall serve` runs its uvicorn workers as separate processes, and Celery
imports its app by name, so the server's settings travel as environment
variables. Each one is declared here once - name, type, default - and read
through its `Setting`, at call time: a test or `footfall serve` may set a
variable after footfall was imported and before the part that reads it
starts. docs/configuration.md lists them all, with who reads each one; a
test keeps that page and this module in step.

A value that does not parse is a `SettingError` naming the variable, never a
silent fall back to the default. An empty value counts as unset. The server
calls `check()` at start, so a bad value stops it there rather than at the
first request or at shutdown.

This module imports nothing from footfall but `footfall.errors`, so every
layer may read its settings from here.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from footfall.errors import ConfigurationError

__all__ = ["ALL", "Setting", "SettingError", "check"]

T = TypeVar("T", covariant=True)  # a Setting[int] is a Setting[object]: ALL holds them all


class SettingError(ConfigurationError, ValueError):
    """An environment variable holds a value footfall cannot use; `name` says which."""

    def __init__(self, name: str, problem: str, text: str) -> None:
        super().__init__(f"{name} must be {problem}, not {text!r}")
        self.name = name


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One environment variable: its name, its default and how its text parses.

    `parse` raises `ValueError("<what it must be>")` for a bad value; calling
    the setting turns that into a `SettingError` naming the variable.
    """

    name: str
    default: T
    parse: Callable[[str], T]

    def __call__(self, env: Mapping[str, str] | None = None) -> T:
        """The value now (from `env`, default `os.environ`), or the default when unset."""
        text = (os.environ if env is None else env).get(self.name, "").strip()
        if not text:
            return self.default
        try:
            return self.parse(text)
        except ValueError as exc:
            raise SettingError(self.name, str(exc), text) from None


# -- parsers -------------------------------------------------------------------


def _text(text: str) -> str:
    return text


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _flag(text: str) -> bool:
    value = text.lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError("1 or 0 (true/false, yes/no, on/off)")


def _number(minimum: float, *, above: bool = False) -> Callable[[str], float]:
    """A finite number `>= minimum` (`> minimum` when `above`)."""
    bound = f"above {minimum:g}" if above else f"at least {minimum:g}"

    def parse(text: str) -> float:
        try:
            value = float(text.replace("_", ""))
        except ValueError:
            raise ValueError(f"a number {bound}") from None
        if not math.isfinite(value) or value < minimum or (above and value == minimum):
            raise ValueError(f"a number {bound}")
        return value

    return parse


def _count(minimum: int) -> Callable[[str], int]:
    """A whole number `>= minimum` (`100_000` and `1e5` are whole numbers)."""

    def parse(text: str) -> int:
        try:
            value = float(text.replace("_", ""))
        except ValueError:
            raise ValueError(f"a whole number of at least {minimum}") from None
        if not value.is_integer() or value < minimum:
            raise ValueError(f"a whole number of at least {minimum}")
        return int(value)

    return parse


def _rate(text: str) -> tuple[float, float]:
    """`rate/burst` (`50/200`; `50` alone means a burst of 100); `0` or `off`: no limit."""
    value = text.lower()
    if value in ("0", "off", "none", "false"):
        return 0.0, 0.0
    rate_s, _, burst_s = value.partition("/")
    try:
        rate = float(rate_s)
        burst = float(burst_s) if burst_s else max(rate * 2, 1.0)
    except ValueError:
        raise ValueError("rate/burst like 50/200, or off") from None
    if not (math.isfinite(rate) and math.isfinite(burst)) or rate < 0 or burst < 1:
        raise ValueError("rate/burst like 50/200, or off")
    return rate, burst


def _optional(text: str) -> str | None:
    return text


# -- where things are ----------------------------------------------------------

DB = Setting("FOOTFALL_DB", "sqlite:///./footfall.db", _text)
META_DB = Setting[str | None]("FOOTFALL_META_DB", None, _optional)
GEOIP_DB = Setting[str | None]("FOOTFALL_GEOIP_DB", None, _optional)
SCHEMAS = Setting[str | None]("FOOTFALL_SCHEMAS", None, _optional)
SQLITE_WRITER_LOCK = Setting("FOOTFALL_SQLITE_WRITER_LOCK", True, _flag)

# -- the collector -------------------------------------------------------------

RATE_LIMIT = Setting("FOOTFALL_RATE_LIMIT", (50.0, 200.0), _rate)
TRUSTED_PROXIES = Setting("FOOTFALL_TRUSTED_PROXIES", 0, _count(0))
DEDUPE_SECONDS = Setting("FOOTFALL_DEDUPE_SECONDS", 0.0, _number(0))
SCHEMAS_STRICT = Setting("FOOTFALL_SCHEMAS_STRICT", False, _flag)
SITE_CACHE_SECONDS = Setting("FOOTFALL_SITE_CACHE_SECONDS", 5.0, _number(0))
ADMIT_DEPTH = Setting("FOOTFALL_ADMIT_DEPTH", 10_000, _count(0))
ADMIT_WAIT = Setting("FOOTFALL_ADMIT_WAIT", 5.0, _number(0))
FAILED_BYTES = Setting("FOOTFALL_FAILED_BYTES", 1_000_000, _count(0))
QUEUE_SIZE = Setting("FOOTFALL_QUEUE_SIZE", 100_000, _count(1))
SERVER_DRAIN_SECONDS = Setting("FOOTFALL_SERVER_DRAIN_SECONDS", 60.0, _number(0, above=True))

# -- transports ----------------------------------------------------------------

REDIS_SINK = Setting[str | None]("FOOTFALL_REDIS_SINK", None, _optional)
STREAM = Setting("FOOTFALL_STREAM", "footfall", _text)
REDIS = Setting("FOOTFALL_REDIS", "redis://127.0.0.1:6379/0", _text)
CELERY_BROKER = Setting("FOOTFALL_CELERY_BROKER", "amqp://guest:guest@127.0.0.1:5672//", _text)
CELERY_QUEUE = Setting("FOOTFALL_CELERY_QUEUE", "footfall", _text)
NO_SIGNALS = Setting("FOOTFALL_NO_SIGNALS", False, _flag)

# -- stats and summaries -------------------------------------------------------

STATS_TIMEOUT = Setting("FOOTFALL_STATS_TIMEOUT", 10.0, _number(0))
STATS_CONCURRENCY = Setting("FOOTFALL_STATS_CONCURRENCY", 4, _count(1))
STATS_QUEUE_SECONDS = Setting("FOOTFALL_STATS_QUEUE_SECONDS", 5.0, _number(0))
CATCHUP_SECONDS = Setting("FOOTFALL_CATCHUP_SECONDS", 1.0, _number(0))
CATCHUP_BUSY_RATE = Setting("FOOTFALL_CATCHUP_BUSY_RATE", 10_000.0, _number(0))
CATCHUP_MAX_LAG = Setting("FOOTFALL_CATCHUP_MAX_LAG", 200_000, _count(0))
ROLLUP_CHUNK = Setting("FOOTFALL_ROLLUP_CHUNK", 25_000, _count(1))
CH_SETTLE_SECONDS = Setting("FOOTFALL_CH_SETTLE_SECONDS", 60.0, _number(0))

# -- the dashboard -------------------------------------------------------------

SECURE_COOKIES = Setting("FOOTFALL_SECURE_COOKIES", False, _flag)

# -- email reports -------------------------------------------------------------

SMTP_URL = Setting[str | None]("FOOTFALL_SMTP_URL", None, _optional)
REPORTS_FROM = Setting[str | None]("FOOTFALL_REPORTS_FROM", None, _optional)
PUBLIC_URL = Setting[str | None]("FOOTFALL_PUBLIC_URL", None, _optional)
REPORTS_SCHEDULE = Setting("FOOTFALL_REPORTS_SCHEDULE", True, _flag)

# -- alerts --------------------------------------------------------------------

ALERTS_SECONDS = Setting("FOOTFALL_ALERTS_SECONDS", 60.0, _number(0))

ALL: tuple[Setting[object], ...] = (
    DB,
    META_DB,
    GEOIP_DB,
    SCHEMAS,
    SQLITE_WRITER_LOCK,
    RATE_LIMIT,
    TRUSTED_PROXIES,
    DEDUPE_SECONDS,
    SCHEMAS_STRICT,
    SITE_CACHE_SECONDS,
    ADMIT_DEPTH,
    ADMIT_WAIT,
    FAILED_BYTES,
    QUEUE_SIZE,
    SERVER_DRAIN_SECONDS,
    REDIS_SINK,
    STREAM,
    REDIS,
    CELERY_BROKER,
    CELERY_QUEUE,
    NO_SIGNALS,
    STATS_TIMEOUT,
    STATS_CONCURRENCY,
    STATS_QUEUE_SECONDS,
    CATCHUP_SECONDS,
    CATCHUP_BUSY_RATE,
    CATCHUP_MAX_LAG,
    ROLLUP_CHUNK,
    CH_SETTLE_SECONDS,
    SECURE_COOKIES,
    SMTP_URL,
    REPORTS_FROM,
    PUBLIC_URL,
    REPORTS_SCHEDULE,
    ALERTS_SECONDS,
)


def check(env: Mapping[str, str] | None = None) -> None:
    """Read every setting once: raise `SettingError` for the first bad value."""
    for setting in ALL:
        setting(env)
