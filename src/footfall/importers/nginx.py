"""An nginx `log_format` string, compiled once into a parser for its lines.

`log_format` is literal text with `$variables` (or `${variables}`) in it.
Each variable becomes one group of a single regular expression: a variable
in double quotes matches up to the closing quote (backslash escapes
allowed), any other matches up to the first character of the literal text
after it, so no group backtracks. The lines are matched from their start;
whatever follows the last field is ignored, so a log whose format adds a
field at the end (nginx's `main` adds `"$http_x_forwarded_for"` to
`combined`) still reads as `combined`.

The built-in text formats are written the same way: Apache's `%h %l %u %t
"%r" %>s %O "%{Referer}i" "%{User-Agent}i"` is nginx's `combined` with
`$ident` for `%l`; `vhost_combined` puts `%v:%p` in front.

Variables the importer does not use are matched and dropped, so any real
`log_format` compiles; it must have a time (`$time_local`, `$time_iso8601`
or `$msec`), the request (`$request`, or `$request_method` with
`$request_uri`, or `$uri` and `$args`) and `$status`.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from footfall.errors import ConfigurationError
from footfall.importers.logline import (
    BadLine,
    Judge,
    Reader,
    Request,
    clf_time,
    epoch_time,
    iso_time,
    split_request,
    to_int,
    unescape,
)

__all__ = ["BUILT_IN", "TextFormat", "compile_log_format"]

BUILT_IN = {
    "combined": (
        '$remote_addr $ident $remote_user [$time_local] "$request" $status $body_bytes_sent '
        '"$http_referer" "$http_user_agent"'
    ),
    "common": (
        '$remote_addr $ident $remote_user [$time_local] "$request" $status $body_bytes_sent'
    ),
    "vhost_combined": (
        "$host:$server_port $remote_addr $ident $remote_user [$time_local] "
        '"$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"'
    ),
}

# What each variable the importer reads stands for.
ROLES: dict[str, str] = {
    "remote_addr": "ip",
    "time_local": "time",
    "time_iso8601": "time",
    "msec": "time",
    "request": "request",
    "request_method": "method",
    "request_uri": "uri",
    "uri": "path",
    "document_uri": "path",
    "args": "args",
    "query_string": "args",
    "status": "status",
    "body_bytes_sent": "bytes",
    "bytes_sent": "bytes",
    "http_referer": "referrer",
    "http_user_agent": "user_agent",
    "host": "host",
    "http_host": "host",
    "server_name": "host",
    "request_time": "duration",
    "http_accept_language": "language",
    "sent_http_content_type": "content_type",
    "scheme": "scheme",
    "server_port": "port",
}

_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
# Possessive after a class that excludes what follows it: giving characters
# back could never make a match, and not keeping the way back is 15 % of a
# line's match (`*+` is Python 3.11+; the plain form matches the same).
_ALL = "*+" if sys.version_info >= (3, 11) else "*"
_SOME = "++" if sys.version_info >= (3, 11) else "+"
# Up to the closing quote, escapes allowed; unrolled so it never backtracks.
_QUOTED = rf'[^"\\]{_ALL}(?:\\.[^"\\]{_ALL}){_ALL}'


@dataclass(frozen=True)
class TextFormat:
    """A compiled format: `read(line, judge)` gives a `Request` (or the judge's reason)."""

    name: str
    source: str  # the log_format string
    pattern: re.Pattern[str]
    read: Reader
    has_host: bool


# Roles whose values never hold a space: as the last field of a format, they
# end at the first space (anything after them is ignored).
_TOKENS = frozenset({"ip", "time", "uri", "path", "args", "status", "bytes", "duration", "port"})


# A quoted `$request` is read in one go when it is the usual `METHOD target
# HTTP/x` (method and target captured); anything else falls to the third
# group, split in Python.
_REQUEST = rf'(?:([A-Z]{{1,16}}) ([^ "\\]{_SOME})(?: HTTP/[0-9.]{_SOME})?|({_QUOTED}))'


def _group(role: str, before: str, after: str, used: bool) -> str:
    """The regular expression of one variable, given the literal text around it."""
    quoted = before.endswith('"') and after.startswith('"')
    if quoted and used and role == "request":
        return _REQUEST
    if quoted:
        body = _QUOTED
    elif after:
        body = f"[^{re.escape(after[0])}]{_ALL}"
    else:
        body = r"\S" + _ALL if role in _TOKENS else ".*"  # the last field of the format
    return f"({body})" if used else f"(?:{body})"


def compile_log_format(source: str, name: str = "custom") -> TextFormat:
    """Compile an nginx `log_format` string (the part after the format's name)."""
    parts: list[str] = []
    roles: dict[str, int] = {}
    pieces = _VARIABLE.split(source)
    # split() with two groups: literal, braced name, bare name, literal, ...
    literals = pieces[0::3]
    names = [b or c for b, c in zip(pieces[1::3], pieces[2::3], strict=True)]
    if not names:
        raise ConfigurationError(f"log format {source[:80]!r} has no $variables")
    parts.append(re.escape(literals[0]))
    group = 0
    for i, variable in enumerate(names):
        before, after = literals[i], literals[i + 1]
        role = ROLES.get(variable.lower(), "")
        used = bool(role) and role not in roles
        if not after and i + 1 < len(names):
            # Two variables with nothing between them: the first takes as little as it can.
            parts.append("(.*?)" if used else "(?:.*?)")
        else:
            parts.append(_group(role, before, after, used))
        if used:
            roles[role] = group
            group += 3 if parts[-1] == _REQUEST else 1
            if role == "time":
                roles["time:" + variable.lower()] = 0
        parts.append(re.escape(after))
    missing = _missing(roles)
    if missing:
        raise ConfigurationError(f"log format {name!r} lacks {missing}")
    pattern = re.compile("".join(parts))
    return TextFormat(name, source, pattern, _parser(pattern, roles), "host" in roles)


def _missing(roles: dict[str, int]) -> str:
    if "time" not in roles:
        return "a time ($time_local, $time_iso8601 or $msec)"
    if "request" not in roles and "uri" not in roles and "path" not in roles:
        return "the request ($request, or $request_method and $request_uri)"
    if "request" not in roles and "method" not in roles:
        return "the method ($request_method)"
    if "status" not in roles:
        return "$status"
    return ""


def _time_of(roles: dict[str, int]) -> Callable[[str], tuple[datetime, int]]:
    if "time:msec" in roles:
        return lambda text: epoch_time(_float(text, "msec"))
    if "time:time_iso8601" in roles:
        return iso_time
    return clf_time


def _float(text: str, field: str) -> float:
    if text == "-":
        return 0.0
    try:
        return float(text)
    except ValueError:
        raise BadLine(f"{field} {text[:20]!r} is not a number") from None


def _parser(pattern: re.Pattern[str], roles: dict[str, int]) -> Reader:
    """The per-line function: one match, then only slicing and small conversions.

    With a `judge`, the fields it needs come first, and a line it skips
    costs no more.
    """
    match = pattern.match
    at = {role: roles.get(role, -1) for role in ROLES.values()}
    i_time, i_ip, i_request = at["time"], at["ip"], at["request"]
    i_method, i_uri, i_path, i_args = at["method"], at["uri"], at["path"], at["args"]
    i_status, i_bytes, i_ref, i_ua = at["status"], at["bytes"], at["referrer"], at["user_agent"]
    i_host, i_dur, i_lang, i_ctype = at["host"], at["duration"], at["language"], at["content_type"]
    i_scheme, i_port = at["scheme"], at["port"]
    time_of = _time_of(roles)
    # The groups `judge` needs are taken first, alone: `m.group(a, b, ...)` makes
    # only those strings, half the cost of all of `m.groups()` on a line skipped.
    head = [i_method, i_uri, i_path, i_args, i_status, i_host, i_ctype]
    if i_request >= 0:
        head += [i_request, i_request + 1, i_request + 2]
    head = sorted({i for i in head if i >= 0})
    assert len(head) >= 2, "a format has a status and a request"  # so group() gives a tuple
    numbers = [i + 1 for i in head]  # group numbers start at 1

    def k(i: int, step: int = 0) -> int:
        return head.index(i + step) if i >= 0 else -1

    k_request, k_target, k_raw = k(i_request), k(i_request, 1), k(i_request, 2)
    k_method, k_uri, k_path, k_args = k(i_method), k(i_uri), k(i_path), k(i_args)
    k_status, k_host, k_ctype = k(i_status), k(i_host), k(i_ctype)

    def read(line: str, judge: Judge | None = None) -> Request | str:
        m = match(line)
        if m is None:
            raise BadLine("does not match the log format")
        h = m.group(*numbers)
        if k_request >= 0:
            method = h[k_request]
            if method is not None:
                target = h[k_target]
            else:
                request = h[k_raw]
                method, target = split_request(unescape(request) if "\\" in request else request)
        else:
            method = h[k_method] if k_method >= 0 else "GET"
            if k_uri >= 0:
                target = h[k_uri]
            else:
                args = h[k_args] if k_args >= 0 else ""
                target = h[k_path] + ("?" + args if args and args != "-" else "")
        try:
            status = int(h[k_status])
        except ValueError:
            status = to_int(h[k_status], "status")
        host = h[k_host] if k_host >= 0 else ""
        if host == "-":
            host = ""
        ctype = h[k_ctype] if k_ctype >= 0 else ""
        if ctype == "-":
            ctype = ""
        if judge is not None:
            reason = judge(host, method, target, status, ctype)
            if reason is not None:
                return reason
        g = m.groups()
        ts, ms = time_of(g[i_time])
        nbytes = to_int(g[i_bytes], "bytes") if i_bytes >= 0 else 0
        ref = g[i_ref] if i_ref >= 0 else ""
        if "\\" in ref:
            ref = unescape(ref)
        ua = g[i_ua] if i_ua >= 0 else ""
        if "\\" in ua:
            ua = unescape(ua)
        duration = _float(g[i_dur], "request_time") * 1000.0 if i_dur >= 0 else 0.0
        lang = unescape(g[i_lang]) if i_lang >= 0 else ""
        scheme = g[i_scheme] if i_scheme >= 0 else ""
        if not scheme and i_port >= 0:
            scheme = "https" if g[i_port] == "443" else "http"
        ip = g[i_ip] if i_ip >= 0 else ""
        return Request(
            ts,
            ms,
            "" if ip == "-" else ip,
            method,
            target,
            status,
            nbytes,
            "" if ref == "-" else ref,
            "" if ua == "-" else ua,
            host,
            duration,
            "" if lang == "-" else lang,
            ctype,
            scheme,
        )

    return read
