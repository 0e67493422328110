"""Which parser reads a log: `--format NAME` or `--log-format '<nginx log_format>'`."""

from __future__ import annotations

from dataclasses import dataclass

from footfall.errors import ConfigurationError
from footfall.importers.jsonlog import parse_caddy, parse_json
from footfall.importers.logline import BadLine, Judge, Reader, Request
from footfall.importers.nginx import BUILT_IN, compile_log_format

__all__ = ["FORMATS", "LogFormat", "log_format"]

FORMATS = ("combined", "common", "vhost_combined", "caddy", "json")


@dataclass(frozen=True)
class LogFormat:
    """A log format: its name, its line reader, and whether its lines name the site."""

    name: str
    read: Reader
    has_host: bool

    def parse(self, line: str) -> Request:
        """Every field of one line; raises `BadLine`."""
        req = self.read(line, None)
        if not isinstance(req, Request):  # only a judge returns a reason
            raise BadLine(req)
        return req

    def screen(self, line: str, judge: Judge) -> Request | str:
        """The line's request, or `judge`'s reason to skip it (read no further)."""
        return self.read(line, judge)


def log_format(name: str = "combined", nginx: str | None = None) -> LogFormat:
    """The format `name`, or an nginx `log_format` string compiled (which wins)."""
    if nginx:
        compiled = compile_log_format(nginx)
        return LogFormat("custom", compiled.read, compiled.has_host)
    if name in BUILT_IN:
        compiled = compile_log_format(BUILT_IN[name], name)
        return LogFormat(name, compiled.read, compiled.has_host)
    if name == "caddy":
        return LogFormat(name, parse_caddy, True)
    if name == "json":
        return LogFormat(name, parse_json, True)
    raise ConfigurationError(f"unknown log format {name!r}; use one of {', '.join(FORMATS)}")
