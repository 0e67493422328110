"""One access-log request, as every log format hands it to the importer.

The formats differ in syntax only; what the importer needs from a line is the
same everywhere: when, from where, what was asked, what was answered. The
conversions they share live here: times in the three shapes servers write
them, the request line, the escapes nginx and Apache put in quoted fields.
They run once per line, a million times per large log, so they are written
for speed: a bounded cache for time strings (consecutive lines share their
second), and no regular expression where slicing will do.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import msgspec

from footfall.errors import FootfallError

__all__ = [
    "BadLine",
    "Judge",
    "Reader",
    "Request",
    "clf_time",
    "epoch_time",
    "iso_time",
    "split_request",
    "to_int",
    "unescape",
]

_UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_TIME_CACHE_MAX = 4_096  # distinct time strings remembered before starting over
_times: dict[str, tuple[datetime, int]] = {}
_days: dict[str, int] = {}


class BadLine(FootfallError, ValueError):
    """A line that is not a request in the expected format; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Request(msgspec.Struct, gc=False):
    """What one log line says. Text fields are "" when the log has no value ("-").

    A `msgspec.Struct` built positionally: a tenth of a NamedTuple's cost,
    which matters once per line.
    """

    ts: datetime  # UTC
    ms: int  # the same instant, in milliseconds since the epoch
    ip: str
    method: str  # "" when the request line could not be read
    target: str  # the request target as sent: path and query, percent-encoded
    status: int
    nbytes: int
    referrer: str
    user_agent: str
    host: str  # the virtual host, when the format has one
    duration_ms: float
    language: str  # the Accept-Language header, when the format has it
    content_type: str  # the response's Content-Type, when the format has it
    scheme: str  # "http" / "https", when the format says


# (host, method, target, status, content type) -> why the line is skipped, or None.
Judge = Callable[[str, str, str, int, str], "str | None"]
# (line, judge) -> the request, or the judge's reason; raises BadLine.
Reader = Callable[[str, "Judge | None"], "Request | str"]


def _remember(text: str, value: tuple[datetime, int]) -> tuple[datetime, int]:
    if len(_times) >= _TIME_CACHE_MAX:
        _times.clear()
    _times[text] = value
    return value


def _ms(ts: datetime) -> int:
    d = ts - _EPOCH
    return (d.days * 86_400 + d.seconds) * 1_000 + d.microseconds // 1_000


def _day(text: str) -> int:
    """Seconds from the epoch to the UTC midnight of `10/Oct/2000` (cached: few days)."""
    day = _days.get(text)
    if day is None:
        if len(_days) >= _TIME_CACHE_MAX:
            _days.clear()
        d = datetime(int(text[7:11]), _MONTHS[text[3:6]], int(text[0:2]), tzinfo=_UTC) - _EPOCH
        day = _days[text] = d.days * 86_400
    return day


def clf_time(text: str) -> tuple[datetime, int]:
    """`10/Oct/2000:13:55:36 -0700` (nginx `$time_local`, Apache `%t`) -> (UTC, ms)."""
    hit = _times.get(text)
    if hit is not None:
        return hit
    try:
        if (
            len(text) != 26
            or text[2] != "/"
            or text[6] != "/"
            or text[11] != ":"
            or text[20] != " "
            or text[21] not in "+-"
        ):
            raise ValueError(text)
        offset = int(text[22:24]) * 3_600 + int(text[24:26]) * 60
        seconds = (
            _day(text[:11])
            + int(text[12:14]) * 3_600
            + int(text[15:17]) * 60
            + int(text[18:20])
            + (-offset if text[21] == "+" else offset)
        )
    except (ValueError, KeyError):
        raise BadLine(f"time {text[:40]!r} is not like 10/Oct/2000:13:55:36 -0700") from None
    return _remember(text, (_EPOCH + timedelta(seconds=seconds), seconds * 1_000))


def iso_time(text: str) -> tuple[datetime, int]:
    """`2000-10-10T13:55:36-07:00` (nginx `$time_iso8601`, Caddy) -> (UTC, ms).

    A time without an offset is taken as UTC.
    """
    hit = _times.get(text)
    if hit is not None:
        return hit
    raw = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text  # 3.10 lacks "Z"
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise BadLine(f"time {text[:40]!r} is not an ISO 8601 time") from None
    ts = parsed.replace(tzinfo=_UTC) if parsed.tzinfo is None else parsed.astimezone(_UTC)
    return _remember(text, (ts, _ms(ts)))


def epoch_time(seconds: float) -> tuple[datetime, int]:
    """Seconds since the epoch (nginx `$msec`, Caddy's default `ts`) -> (UTC, ms)."""
    if not 0 <= seconds < 32_503_680_000:  # before the year 3000
        raise BadLine(f"time {seconds!r} is not a time since the epoch")
    ms = int(seconds * 1000)
    return _EPOCH + timedelta(milliseconds=ms), ms


_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"))


def split_request(line: str) -> tuple[str, str]:
    """`GET /path?q HTTP/1.1` -> ("GET", "/path?q"); ("", "") when it is not one.

    Scanners send anything (TLS handshakes to port 80, empty lines): those
    become ("", "") and are counted, never a bad line, since the log line
    itself was fine.
    """
    parts = line.split(" ")
    if len(parts) == 3 and parts[0] in _METHODS and parts[2].startswith("HTTP/") and parts[1]:
        return parts[0], parts[1]  # the usual line, at the cost of one split
    method, _, rest = line.partition(" ")
    target, sep, protocol = rest.rpartition(" ")
    if not sep or not protocol.startswith("HTTP/"):
        target = rest  # HTTP/0.9 (`GET /`), or not a request at all
    if (
        not target
        or " " in target
        or not method.isalpha()
        or not method.isupper()
        or len(method) > 16
    ):
        return "", ""
    return method, target


def to_int(text: str, field: str) -> int:
    """A count from the log; "-" (nothing sent) is 0."""
    try:
        return int(text)
    except ValueError:
        if text == "-" or not text:
            return 0
        raise BadLine(f"{field} {text[:20]!r} is not a number") from None


_SIMPLE = {"n": b"\n", "t": b"\t", "r": b"\r", '"': b'"', "\\": b"\\"}


def unescape(text: str) -> str:
    """Undo the escapes nginx (`\\x22`) and Apache (`\\"`, `\\xhh`) write in quoted fields.

    Escaped bytes above 0x7f are the UTF-8 of the original text, so they are
    decoded together.
    """
    if "\\" not in text:
        return text
    out = bytearray()
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            nxt = text[i + 1]
            if nxt == "x" and _is_hex(text[i + 2 : i + 4]):
                out.append(int(text[i + 2 : i + 4], 16))
                i += 4
                continue
            simple = _SIMPLE.get(nxt)
            if simple is not None:
                out += simple
                i += 2
                continue
        out += c.encode()
        i += 1
    return out.decode("utf-8", "replace")


def _is_hex(pair: str) -> bool:
    return len(pair) == 2 and all(ch in "0123456789abcdefABCDEF" for ch in pair)
