"""Log formats: each line shape read into the same request, bad lines refused with a reason."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from footfall.errors import ConfigurationError
from footfall.importers.logformat import log_format
from footfall.importers.logline import BadLine, clf_time, split_request, unescape
from footfall.importers.nginx import compile_log_format

from .conftest import CUSTOM_FORMAT, FIREFOX, REQUESTS, SITE, WRITERS

UTC = timezone.utc


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_every_format_reads_the_same_request(fmt: str) -> None:
    reader = log_format(fmt, CUSTOM_FORMAT if fmt == "custom" else None)
    first = REQUESTS[0]
    req = reader.parse(WRITERS[fmt](first))
    assert req.ts == first.at.astimezone(UTC)
    assert req.ts.tzinfo == UTC
    assert req.ms == int(first.at.timestamp()) * 1000
    assert (req.ip, req.method, req.target, req.status) == ("81.2.69.142", "GET", "/", 200)
    assert req.nbytes == 5120
    if fmt != "common":
        assert req.referrer == "https://www.google.com/"
        assert req.user_agent == FIREFOX
    if fmt in ("vhost_combined", "caddy", "json", "custom"):
        assert req.host == SITE
        assert reader.has_host
    if fmt in ("caddy", "custom"):
        assert req.content_type == "text/html; charset=utf-8"
        assert req.language == "de-DE,de;q=0.9"
        assert req.duration_ms == pytest.approx(12.0)


def test_times_in_any_offset_become_utc() -> None:
    assert clf_time("10/Oct/2000:13:55:36 -0700")[0] == datetime(
        2000, 10, 10, 20, 55, 36, tzinfo=UTC
    )
    assert clf_time("01/Jan/2026:00:30:00 +0530")[0] == datetime(2025, 12, 31, 19, 0, tzinfo=UTC)
    ts, ms = clf_time("29/Feb/2024:23:59:59 +0000")
    assert ts == datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC) and ms == int(ts.timestamp()) * 1000
    for bad in ("10/Oct/2000:13:55:36", "10/Okt/2000:13:55:36 -0700", "xx/Oct/2000:13:55:36 +0000"):
        with pytest.raises(BadLine):
            clf_time(bad)


def test_request_lines_that_are_not_requests_are_read_as_nothing() -> None:
    assert split_request("GET /a?b=1 HTTP/1.1") == ("GET", "/a?b=1")
    assert split_request("GET /a HTTP/2.0") == ("GET", "/a")
    assert split_request("GET /") == ("GET", "/")  # HTTP/0.9
    assert split_request("PROPFIND /dav HTTP/1.1") == ("PROPFIND", "/dav")
    for junk in ("-", "", "\\x16\\x03\\x01\\x02\\x00", "get / HTTP/1.1", "GET /a b HTTP/1.1"):
        assert split_request(junk) == ("", "")


def test_escapes_of_nginx_and_apache_are_undone() -> None:
    assert unescape(r"Mozilla \"quoted\" \\ back") == 'Mozilla "quoted" \\ back'
    assert unescape(r"caf\xC3\xA9 \x22") == 'café "'
    line = (
        '1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "GET /caf\\xC3\\xA9 HTTP/1.1" 200 5 '
        '"-" "Agent \\x22with\\x22 quotes"'
    )
    req = log_format("combined").parse(line)
    assert req.target == "/café" and req.user_agent == 'Agent "with" quotes'


def test_trailing_fields_beyond_the_format_are_ignored() -> None:
    # nginx's default `main` format is combined plus "$http_x_forwarded_for".
    line = WRITERS["combined"](REQUESTS[0]) + ' "10.0.0.1, 10.0.0.2"'
    assert log_format("combined").parse(line).user_agent == FIREFOX


def test_bad_lines_say_why() -> None:
    combined = log_format("combined")
    with pytest.raises(BadLine, match="does not match"):
        combined.parse("not a log line")
    good = WRITERS["combined"](REQUESTS[0])
    with pytest.raises(BadLine, match="status"):
        combined.parse(good.replace('HTTP/1.1" 200 ', 'HTTP/1.1" OK '))
    with pytest.raises(BadLine, match="not a JSON object"):
        log_format("caddy").parse("[1, 2]")
    with pytest.raises(BadLine, match="request"):
        log_format("caddy").parse(json.dumps({"level": "error", "msg": "tls handshake"}))
    with pytest.raises(BadLine, match="time"):
        log_format("json").parse(json.dumps({"request": "GET / HTTP/1.1", "status": 200}))


def test_caddy_older_and_configured_shapes() -> None:
    caddy = log_format("caddy")
    entry = json.loads(WRITERS["caddy"](REQUESTS[0]))
    # Before Caddy 2.5: `remote_addr` host:port, no client_ip / remote_ip.
    request = entry["request"]
    for key in ("client_ip", "remote_ip", "remote_port"):
        del request[key]
    request["remote_addr"] = "81.2.69.142:41342"
    entry["ts"] = "2026-03-02T09:00:00.250Z"  # time_format iso8601
    req = caddy.parse(json.dumps(entry))
    assert req.ip == "81.2.69.142"
    assert req.ts == datetime(2026, 3, 2, 9, 0, 0, 250_000, tzinfo=UTC) and req.ms % 1000 == 250
    request["remote_addr"] = "[2001:db8::1]:443"
    entry["ts"] = 1772442000123  # unix_milli
    req = caddy.parse(json.dumps(entry))
    assert req.ip == "2001:db8::1" and req.ms == 1772442000123
    del request["tls"]
    assert caddy.parse(json.dumps(entry)).scheme == "http"


def test_a_custom_log_format_compiles_to_one_expression() -> None:
    fmt = compile_log_format(CUSTOM_FORMAT)
    assert fmt.has_host
    # Only the fields read are captured (the request as method, target or the whole
    # line); the upstream timings are matched and dropped.
    assert fmt.pattern.groups == 11 + 2
    braced = compile_log_format('${remote_addr} [${time_iso8601}] "$request" ${status}')
    req = braced.read('1.2.3.4 [2026-03-02T10:00:00+01:00] "GET /x HTTP/1.1" 200', None)
    assert not isinstance(req, str)
    assert (req.ip, req.target, req.ts.hour) == ("1.2.3.4", "/x", 9)
    split = compile_log_format("$msec $request_method $request_uri $status $http_host")
    req = split.read("1772442000.500 GET /a?b=c 301 shop.example:8080", None)
    assert not isinstance(req, str)
    assert (req.method, req.target, req.status, req.host, req.ms) == (
        "GET", "/a?b=c", 301, "shop.example:8080", 1772442000500,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("source", "lacks"),
    [
        ('$remote_addr "$request" $status', "a time"),
        ("$remote_addr [$time_local] $status", "the request"),
        ('[$time_local] "$request"', "$status"),
        ("no variables at all", "no $variables"),
    ],
)
def test_a_log_format_without_what_is_needed_is_refused(source: str, lacks: str) -> None:
    with pytest.raises(ConfigurationError, match=lacks.replace("$", r"\$")):
        compile_log_format(source)


def test_unknown_format_names_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="unknown log format"):
        log_format("w3c")
