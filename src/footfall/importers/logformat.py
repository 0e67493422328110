"""Which parser reads a log: `--format NAME` or `--log-format '<nginx log_format>'`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from footfall.errors import ConfigurationError
from footfall.importers.jsonlog import parse_caddy, parse_json
from footfall.importers.logline import Request
from footfall.importers.nginx import BUILT_IN, compile_log_format

__all__ = ["FORMATS", "LogFormat", "log_format"]

FORMATS = ("combined", "common", "vhost_combined", "caddy", "json")


@dataclass(frozen=True)
class LogFormat:
    """A log format: its name, its line parser, and whether its lines name the site."""

    name: str
    parse: Callable[[str], Request]
    has_host: bool


def log_format(name: str = "combined", nginx: str | None = None) -> LogFormat:
    """The format `name`, or an nginx `log_format` string compiled (which wins)."""
    if nginx:
        compiled = compile_log_format(nginx)
        return LogFormat("custom", compiled.parse, compiled.has_host)
    if name in BUILT_IN:
        compiled = compile_log_format(BUILT_IN[name], name)
        return LogFormat(name, compiled.parse, compiled.has_host)
    if name == "caddy":
        return LogFormat(name, parse_caddy, True)
    if name == "json":
        return LogFormat(name, parse_json, True)
    raise ConfigurationError(f"unknown log format {name!r}; use one of {', '.join(FORMATS)}")
