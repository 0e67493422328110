"""A small day of a site's traffic, written as real access logs in every supported format.

`REQUESTS` is what happened; the writers render it the way nginx, Apache and
Caddy write it, so each format's test imports the same history and expects
the same page views, visitors and visits (`HUMAN_PAGEVIEWS`, ...).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import footfall
from footfall.cli import main

SITE = "shop.example"
CET = timezone(timedelta(hours=1))
DAY = datetime(2026, 3, 2, tzinfo=CET)

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1"
)
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.0.0 Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
CURL = "curl/8.5.0"

ALICE, BOB, CAROL = "81.2.69.142", "89.160.20.112", "216.160.83.56"


@dataclass(frozen=True)
class Hit:
    """One request as the server saw it."""

    at: datetime
    ip: str
    method: str
    target: str
    status: int
    size: int
    referrer: str = ""
    agent: str = ""
    ctype: str = "text/html; charset=utf-8"
    took: float = 0.012  # seconds
    language: str = ""


def _at(h: int, m: int, s: int = 0) -> datetime:
    return DAY + timedelta(hours=h, minutes=m, seconds=s)


HTML = "text/html; charset=utf-8"
REQUESTS: list[Hit] = [
    # Alice comes from Google: three pages in twenty minutes, the first pulls its assets,
    # and she double-clicks a link (two identical lines in one second).
    Hit(
        _at(10, 0),
        ALICE,
        "GET",
        "/",
        200,
        5120,
        "https://www.google.com/",
        FIREFOX,
        language="de-DE,de;q=0.9",
    ),
    Hit(
        _at(10, 0, 1),
        ALICE,
        "GET",
        "/static/app.css",
        200,
        900,
        f"https://{SITE}/",
        FIREFOX,
        "text/css",
    ),
    Hit(
        _at(10, 0, 1),
        ALICE,
        "GET",
        "/static/app.js?v=3",
        200,
        4000,
        f"https://{SITE}/",
        FIREFOX,
        "text/javascript",
    ),
    Hit(_at(10, 0, 1), ALICE, "GET", "/favicon.ico", 200, 300, "", FIREFOX, "image/x-icon"),
    Hit(_at(10, 5), ALICE, "GET", "/pricing", 200, 4200, f"https://{SITE}/", FIREFOX),
    Hit(
        _at(10, 20),
        ALICE,
        "GET",
        "/blog/hello%20world",
        200,
        6100,
        f"https://{SITE}/pricing",
        FIREFOX,
    ),
    Hit(
        _at(10, 20),
        ALICE,
        "GET",
        "/blog/hello%20world",
        200,
        6100,
        f"https://{SITE}/pricing",
        FIREFOX,
    ),
    # Bob opens the newsletter on his phone; his second page is a 304.
    Hit(
        _at(10, 10),
        BOB,
        "GET",
        "/?utm_source=newsletter&utm_medium=email&utm_campaign=march",
        200,
        5120,
        "",
        IPHONE,
    ),
    Hit(_at(10, 12), BOB, "GET", "/pricing", 304, 0, f"https://{SITE}/", IPHONE, ""),
    # Carol signs up (a POST), then follows a dead link (404), then reads the docs JSON API.
    Hit(_at(11, 0), CAROL, "GET", "/signup", 200, 3000, "https://news.ycombinator.com/", CHROME),
    Hit(_at(11, 1), CAROL, "POST", "/signup", 302, 0, f"https://{SITE}/signup", CHROME, ""),
    Hit(_at(11, 2), CAROL, "GET", "/old-page", 404, 150, f"https://{SITE}/welcome", CHROME),
    Hit(_at(11, 3), CAROL, "GET", "/feed.xml", 200, 9000, "", CHROME, "application/rss+xml"),
    # Alice again after lunch: a new visit.
    Hit(_at(12, 0), ALICE, "GET", "/docs/", 200, 7000, "", FIREFOX),
    # Bots: Google's crawler and a script.
    Hit(_at(10, 30), "66.249.66.1", "GET", "/", 200, 5120, "", GOOGLEBOT),
    Hit(_at(10, 31), "66.249.66.1", "GET", "/pricing", 200, 4200, "", GOOGLEBOT),
    Hit(_at(10, 40), "198.51.100.7", "GET", "/", 200, 5120, "", CURL),
    # An uptime check.
    Hit(_at(10, 45), "198.51.100.8", "HEAD", "/", 200, 0, "", "UptimeRobot/2.0", ""),
]
REQUESTS.sort(key=lambda h: h.at)

NOT_PAGES = {"/static/app.css", "/static/app.js?v=3", "/favicon.ico", "/feed.xml"}
BOT_AGENTS = {GOOGLEBOT, CURL, "UptimeRobot/2.0"}


def is_human_page(h: Hit) -> bool:
    """Whether `h` is a person's page view (the definition the importer implements)."""
    return (
        h.method == "GET"
        and h.status in (200, 304)
        and h.target not in NOT_PAGES
        and h.agent not in BOT_AGENTS
    )


# What footfall should make of it (formats that log the user agent).
HUMAN_PAGEVIEWS = 8  # Alice 4 (+1 double click), Bob 2, Carol 1
PAGEVIEWS_BY_PATH = {"/": 2, "/pricing": 2, "/blog/hello world": 2, "/signup": 1, "/docs/": 1}
VISITORS = 3
VISITS = 4  # Alice twice, Bob, Carol
BOTS = 3
SKIPPED = {
    "asset or file, not a page": 4,  # css, js, favicon, feed.xml
    "not a GET": 2,  # POST, HEAD
    "status not 2xx/304": 1,  # 404
    "bot": BOTS,
}
GARBAGE = "this is not a log line"
assert sum(map(is_human_page, REQUESTS)) == HUMAN_PAGEVIEWS


def _clf(at: datetime) -> str:
    return at.strftime("%d/%b/%Y:%H:%M:%S %z")


def combined(h: Hit) -> str:
    return (
        f'{h.ip} - - [{_clf(h.at)}] "{h.method} {h.target} HTTP/1.1" {h.status} {h.size} '
        f'"{h.referrer or "-"}" "{h.agent or "-"}"'
    )


def common(h: Hit) -> str:
    return f'{h.ip} - - [{_clf(h.at)}] "{h.method} {h.target} HTTP/1.1" {h.status} {h.size}'


def vhost_combined(h: Hit) -> str:
    return f"{SITE}:443 {combined(h)}"


def caddy(h: Hit) -> str:
    headers: dict[str, list[str]] = {"Accept": ["*/*"]}
    if h.agent:
        headers["User-Agent"] = [h.agent]
    if h.referrer:
        headers["Referer"] = [h.referrer]
    if h.language:
        headers["Accept-Language"] = [h.language]
    entry = {
        "level": "info",
        "ts": h.at.timestamp(),
        "logger": "http.log.access.log0",
        "msg": "handled request",
        "request": {
            "remote_ip": h.ip,
            "remote_port": "41342",
            "client_ip": h.ip,
            "proto": "HTTP/2.0",
            "method": h.method,
            "host": SITE,
            "uri": h.target,
            "headers": headers,
            "tls": {"resumed": False, "version": 772, "proto": "h2", "server_name": SITE},
        },
        "bytes_read": 0,
        "user_id": "",
        "duration": h.took,
        "size": h.size,
        "status": h.status,
        "resp_headers": {"Server": ["Caddy"], "Content-Type": [h.ctype]} if h.ctype else {},
    }
    return json.dumps(entry, separators=(",", ":"))


def nginx_json(h: Hit) -> str:
    """`log_format main_json escape=json '{"time_iso8601":"$time_iso8601",...}'`."""
    entry = {
        "time_iso8601": h.at.isoformat(),
        "remote_addr": h.ip,
        "remote_user": "",
        "request": f"{h.method} {h.target} HTTP/1.1",
        "status": str(h.status),
        "body_bytes_sent": str(h.size),
        "request_time": f"{h.took:.3f}",
        "http_referer": h.referrer,
        "http_user_agent": h.agent,
        "host": SITE,
    }
    return json.dumps(entry, separators=(",", ":"))


CUSTOM_FORMAT = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent" rt=$request_time uct="$upstream_connect_time" '
    'urt="$upstream_response_time" $host "$http_accept_language" "$sent_http_content_type"'
)


def custom(h: Hit) -> str:
    return (
        f'{combined(h)} rt={h.took:.3f} uct="0.000" urt="{h.took:.3f}" {SITE} '
        f'"{h.language or "-"}" "{h.ctype or "-"}"'
    )


WRITERS: dict[str, Callable[[Hit], str]] = {
    "combined": combined,
    "common": common,
    "vhost_combined": vhost_combined,
    "caddy": caddy,
    "json": nginx_json,
    "custom": custom,
}


def write_log(
    path: Path, fmt: str = "combined", hits: list[Hit] | None = None, *, bad: int = 0
) -> Path:
    """Write `hits` (default `REQUESTS`) as `fmt`; `bad` garbage lines among them."""
    lines = [WRITERS[fmt](h) for h in (REQUESTS if hits is None else hits)]
    for i in range(bad):
        lines.insert(min(len(lines), 3 + 4 * i), f"{GARBAGE} {i}")
    data = "".join(line + "\n" for line in lines)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(data.encode()))
    else:
        path.write_text(data, encoding="utf-8")
    return path


def format_args(fmt: str) -> list[str]:
    """The CLI options that name `fmt` (and the site, where the lines do not)."""
    if fmt == "custom":
        return ["--log-format", CUSTOM_FORMAT]
    args = ["--format", fmt]
    if fmt in ("combined", "common"):
        args += ["--site", SITE]
    return args


def run_import(*args: str, input: bytes | None = None) -> Result:
    """`footfall import log ARGS` in this process; stdin not a terminal."""
    result = CliRunner().invoke(main, ["import", "log", *args], input=input, prog_name="footfall")
    return result


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'footfall.db'}"


@pytest.fixture
def store_of() -> Iterator[Callable[[str], Any]]:
    opened: list[Any] = []

    def open_(url: str) -> Any:
        store = footfall.connect(url)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()


def rows(store: Any, where: str = "1 = 1") -> list[dict[str, Any]]:
    """Every stored event as a dict, oldest first (the SQLite store's own SQL)."""
    cols = ["id", "ts", "name", "site", "source", "path", "url", "host", "referrer",
            "referrer_source", "utm_source", "utm_medium", "utm_campaign", "method", "status",
            "bytes", "duration_ms", "visitor_id", "visit_id", "ip", "country", "browser", "os",
            "device", "is_bot", "language"]  # fmt: skip
    sql = f"SELECT {', '.join(cols)} FROM events WHERE {where} ORDER BY ts, id"
    return [dict(zip(cols, r, strict=True)) for r in store.query(sql)]
