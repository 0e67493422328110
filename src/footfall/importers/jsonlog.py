"""Access logs written as one JSON object per line: Caddy's, and nginx's `escape=json`.

**Caddy** (`--format caddy`): the `http.log.access` entries of Caddy 2, as its
`log` directive writes them by default::

    {"level":"info","ts":1646861401.52,"logger":"http.log.access","msg":"handled request",
     "request":{"remote_ip":"127.0.0.1","client_ip":"127.0.0.1","proto":"HTTP/2.0",
     "method":"GET","host":"example.com","uri":"/","headers":{"User-Agent":["curl/7.82.0"]},
     "tls":{...}},"duration":0.0009,"size":10900,"status":200,
     "resp_headers":{"Content-Type":["text/html; charset=utf-8"]}}

The client is `client_ip` (Caddy 2.7+, after `trusted_proxies`), else
`remote_ip`, else the host of `remote_addr` (before 2.5). `ts` is seconds
since the epoch by default; milliseconds, nanoseconds and ISO 8601 strings
(other `time_format`s) are read too.

**JSON** (`--format json`): a flat object whose keys are nginx variable names,
as written by a `log_format ... escape=json '{"remote_addr":"$remote_addr",
"time_iso8601":"$time_iso8601","request":"$request","status":"$status",...}'`.
The keys read are those of `nginx.ROLES`; numbers may be strings or numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson

from footfall.importers.logline import (
    BadLine,
    Judge,
    Request,
    clf_time,
    epoch_time,
    iso_time,
    split_request,
    to_int,
)
from footfall.importers.nginx import ROLES

__all__ = ["parse_caddy", "parse_json"]

_loads = orjson.loads


def _object(line: str) -> dict[str, Any]:
    try:
        obj = _loads(line)
    except orjson.JSONDecodeError:
        raise BadLine("not a JSON object") from None
    if not isinstance(obj, dict):
        raise BadLine("not a JSON object")
    return obj


def _text(value: Any) -> str:
    """A JSON value as text: strings as they are, numbers written out, the rest empty."""
    if isinstance(value, str):
        return "" if value == "-" else value
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)
    return ""


def _count(value: Any, field: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return to_int(_text(value), field)


def _seconds(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = _text(value)
    try:
        return float(text) if text else 0.0
    except ValueError:
        return 0.0  # a Go duration string ("1.5ms"): not worth a bad line


def _caddy_time(value: Any) -> tuple[datetime, int]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
        if seconds > 1e17:  # unix_nano
            seconds /= 1e9
        elif seconds > 1e11:  # unix_milli / unix_milli_float
            seconds /= 1e3
        return epoch_time(seconds)
    if isinstance(value, str) and value:
        if len(value) >= 19 and value[4] == "/":  # "wall": 2006/01/02 15:04:05.000
            value = value.replace("/", "-", 2).replace(" ", "T", 1)
        return iso_time(value)
    raise BadLine("no time (`ts`)")


def _first(headers: Any, name: str) -> str:
    """The first value of a header in Caddy's `{"Name": ["value", ...]}` maps."""
    if not isinstance(headers, dict):
        return ""
    values = headers.get(name)
    if isinstance(values, list) and values and isinstance(values[0], str):
        return values[0]
    return values if isinstance(values, str) else ""


def _client(request: dict[str, Any]) -> str:
    ip = request.get("client_ip") or request.get("remote_ip")
    if isinstance(ip, str) and ip:
        return ip
    addr = request.get("remote_addr")
    if not isinstance(addr, str):
        return ""
    host = addr.rpartition(":")[0] if addr.count(":") == 1 or addr.startswith("[") else addr
    return host.strip("[]")


def parse_caddy(line: str, judge: Judge | None = None) -> Request | str:
    """One Caddy access log entry -> `Request` (or the judge's reason to skip it)."""
    obj = _object(line)
    request = obj.get("request")
    if not isinstance(request, dict):
        raise BadLine("no `request` object (not an access log entry)")
    method = _text(request.get("method"))
    target = _text(request.get("uri"))
    if not method or not target:
        method, target = "", ""
    status = _count(obj.get("status"), "status")
    host = _text(request.get("host"))
    ctype = _first(obj.get("resp_headers"), "Content-Type")
    if judge is not None:
        reason = judge(host, method, target, status, ctype)
        if reason is not None:
            return reason
    ts, ms = _caddy_time(obj.get("ts"))
    headers = request.get("headers")
    return Request(
        ts,
        ms,
        _client(request),
        method,
        target,
        status,
        _count(obj.get("size"), "size"),
        _first(headers, "Referer"),
        _first(headers, "User-Agent"),
        host,
        _seconds(obj.get("duration")) * 1000.0,
        _first(headers, "Accept-Language"),
        ctype,
        "https" if request.get("tls") else "http",
    )


def _keys(role: str) -> tuple[str, ...]:
    return tuple(name for name, r in ROLES.items() if r == role)


_TIME_KEYS: tuple[tuple[str, Callable[[str], tuple[datetime, int]]], ...] = (
    ("time_iso8601", iso_time),
    ("time_local", clf_time),
    ("msec", lambda text: epoch_time(_seconds(text))),
)
_IP, _BYTES, _REF, _UA = _keys("ip"), _keys("bytes"), _keys("referrer"), _keys("user_agent")
_HOST, _LANG, _CTYPE = _keys("host"), _keys("language"), _keys("content_type")


def _pick(obj: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = obj.get(key)
        if value is not None:
            return value
    return None


def parse_json(line: str, judge: Judge | None = None) -> Request | str:
    """One flat JSON object keyed by nginx variable names -> `Request` (or the judge's reason)."""
    obj = _object(line)
    request = obj.get("request")
    if request is not None:
        method, target = split_request(_text(request))
    else:
        method = _text(obj.get("request_method"))
        target = _text(obj.get("request_uri"))
        if not target:
            path, args = _text(obj.get("uri")), _text(obj.get("args"))
            target = path + ("?" + args if args else "")
        if not method or not target:
            method, target = "", ""
    raw_status = obj.get("status")
    if raw_status is None:
        raise BadLine("no status")
    status = _count(raw_status, "status")
    host = _text(_pick(obj, _HOST))
    ctype = _text(_pick(obj, _CTYPE))
    if judge is not None:
        reason = judge(host, method, target, status, ctype)
        if reason is not None:
            return reason
    for key, convert in _TIME_KEYS:
        raw = obj.get(key)
        if raw is not None:
            ts, ms = convert(_text(raw))
            break
    else:
        raise BadLine("no time (time_iso8601, time_local or msec)")
    port = _text(obj.get("server_port"))
    scheme = _text(obj.get("scheme")) or ("https" if port == "443" else "http" if port else "")
    return Request(
        ts,
        ms,
        _text(_pick(obj, _IP)),
        method,
        target,
        status,
        _count(_pick(obj, _BYTES), "bytes"),
        _text(_pick(obj, _REF)),
        _text(_pick(obj, _UA)),
        host,
        _seconds(obj.get("request_time")) * 1000.0,
        _text(_pick(obj, _LANG)),
        ctype,
        scheme,
    )
