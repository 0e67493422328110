"""The shared request extractor: client address, paths, classification, cookies."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

import pytest

from footfall.event import MAX_PROP_VALUE, validate
from footfall.integrations.request import (
    Options,
    PathFilter,
    Pending,
    classify,
    client_ip,
    cookie_header,
    is_opted_out,
    new_visit_key,
    quote_path,
    read_cookie,
    safe_props,
    valid_key,
)


class TestClientIp:
    def test_no_trusted_proxy_ignores_the_header(self) -> None:
        assert client_ip("10.0.0.9", "6.6.6.6", 0) == "10.0.0.9"

    def test_one_proxy_takes_the_hop_it_appended(self) -> None:
        # The client sent "6.6.6.6"; our proxy appended the address it saw.
        assert client_ip("10.0.0.1", "6.6.6.6, 203.0.113.7", 1) == "203.0.113.7"

    def test_two_proxies_count_from_the_right(self) -> None:
        header = "6.6.6.6, 198.51.100.4, 10.0.0.2"
        assert client_ip("10.0.0.1", header, 2) == "198.51.100.4"

    def test_fewer_hops_than_proxies_takes_the_left_most(self) -> None:
        # The request reached the inner proxy directly; that proxy wrote the entry.
        assert client_ip("10.0.0.1", "203.0.113.7", 2) == "203.0.113.7"

    def test_garbage_hop_gives_no_address(self) -> None:
        assert client_ip("10.0.0.1", "6.6.6.6, not-an-ip", 1) == ""
        assert client_ip("10.0.0.1", "unknown", 1) == ""

    def test_ports_and_brackets_are_stripped(self) -> None:
        assert client_ip("10.0.0.1", "203.0.113.7:5555", 1) == "203.0.113.7"
        assert client_ip("10.0.0.1", "[2001:db8::1]:443", 1) == "2001:db8::1"
        assert client_ip("10.0.0.1", "2001:db8::1", 1) == "2001:db8::1"

    def test_forwarded_header(self) -> None:
        header = 'for=6.6.6.6;proto=https, for="[2001:db8:cafe::17]:4711";by=10.0.0.1'
        assert client_ip("10.0.0.1", header, 1, "forwarded") == "2001:db8:cafe::17"
        assert client_ip("10.0.0.1", header, 2, "forwarded") == "6.6.6.6"

    def test_bad_proxy_header_option(self) -> None:
        with pytest.raises(ValueError, match="proxy_header"):
            Options(proxy_header="x-real-ip")


class TestPathFilter:
    def test_static_files_are_excluded_by_default(self) -> None:
        f = PathFilter()
        for path in ("/static/app.css", "/favicon.ico", "/img/logo.png", "/robots.txt", "/a.js"):
            assert not f(path), path
        for path in ("/", "/about", "/api/items/3", "/static"):
            assert f(path), path

    def test_static_can_be_tracked(self) -> None:
        assert PathFilter(exclude_static=False)("/static/app.css")

    def test_include_and_exclude(self) -> None:
        f = PathFilter(include=["/app/*", re.compile(r"/v\d+/.*")], exclude=["/app/admin*"])
        assert f("/app/home")
        assert f("/v2/items")
        assert not f("/other")
        assert not f("/app/admin/users")

    def test_bad_pattern(self) -> None:
        with pytest.raises(TypeError):
            PathFilter(include=[3])  # type: ignore[list-item]

    def test_cache_is_bounded(self) -> None:
        f = PathFilter()
        for i in range(25_000):
            assert f(f"/item/{i}")
        assert len(f._cache) <= 10_000


def test_classify() -> None:
    assert classify("GET", 200, "text/html; charset=utf-8") == "pageview"
    assert classify("GET", 200, "application/xhtml+xml") == "pageview"
    assert classify("GET", 200, "application/json") == "request"
    assert classify("POST", 200, "text/html") == "request"
    assert classify("GET", 404, "text/html") == "request"
    assert classify("GET", 302, "text/html") == "request"


def test_opt_out_headers() -> None:
    assert is_opted_out("1", None)
    assert is_opted_out(None, "1")
    assert not is_opted_out("0", None)
    assert not is_opted_out(None, None)


class TestCookie:
    def test_keys_are_random_and_valid(self) -> None:
        keys = {new_visit_key() for _ in range(100)}
        assert len(keys) == 100
        assert all(valid_key(k) for k in keys)

    def test_forged_values_are_not_keys(self) -> None:
        for value in (
            None,
            "",
            "short",
            "x" * 65,
            "a b c d e f g h i j",
            "<script>alert(1)</script>",
        ):
            assert not valid_key(value)

    def test_read_cookie(self) -> None:
        header = "a=1; footfall_visit=abcdefghijklmnopqrstuv; other_footfall_visit=zz"
        assert read_cookie(header, "footfall_visit") == "abcdefghijklmnopqrstuv"
        assert read_cookie("a=1", "footfall_visit") is None
        assert read_cookie(None, "footfall_visit") is None

    def test_attributes(self) -> None:
        plain = cookie_header("v", "k", 60, secure=False)
        assert plain == "v=k; Max-Age=60; Path=/; HttpOnly; SameSite=Lax"
        assert cookie_header("v", "k", 60, secure=True).endswith("; Secure")

    def test_bad_cookie_name(self) -> None:
        with pytest.raises(ValueError, match="cookie_name"):
            Options(cookie_name="a;b")


class TestProps:
    def test_valid_props_pass_unchanged(self) -> None:
        props = {"plan": "pro", "n": 3, "nested": {"a": [1, 2]}}
        assert safe_props(props) is props

    def test_odd_values_become_strings(self) -> None:
        ident = uuid.uuid4()
        props = safe_props({"id": ident, "when": datetime(2024, 1, 2), "long": "x" * 5000})
        assert props["id"] == str(ident)
        assert props["when"] == "2024-01-02 00:00:00"
        assert len(props["long"]) == MAX_PROP_VALUE

    def test_nan_is_dropped(self) -> None:
        assert safe_props({"x": float("nan")}) == {"x": None}


def test_pending_clips_untrusted_input_to_valid_events() -> None:
    pending = Pending(
        method="GET",
        scheme="http",
        host="h" * 1000,
        path="/caf\u00e9/\x00" + "p" * 1000,
        query="q=" + "x" * 5000,
        referrer="http://r/" + "r" * 5000,
        user_agent="u" * 9000,
        language="l" * 900,
        ip="",
        site="",
    )
    event = pending.event(200, "text/html", 10, classify)
    validate(event)  # would raise on any over-long or NUL-containing field
    assert "\x00" not in event.path
    assert event.url.startswith("http://" + "h" * 100)
    assert event.name == "pageview"
    assert event.source == "server"


def test_quote_path() -> None:
    assert quote_path("/a/b-c_d.e~f") == "/a/b-c_d.e~f"
    assert quote_path("/caf\u00e9 x") == "/caf%C3%A9%20x"


def _pending(**fields: object) -> Pending:
    base: dict[str, object] = {
        "method": "GET",
        "scheme": "http",
        "host": "example.com:8000",
        "path": "/a b",
        "query": "",
        "referrer": "",
        "user_agent": "",
        "language": "",
        "ip": "",
        "site": "",
    }
    base.update(fields)
    return Pending(**base)  # type: ignore[arg-type]


def test_url_and_site_come_from_scheme_host_and_path() -> None:
    """Each (scheme, host, path) has its own URL and site, cached or not."""
    for _ in range(2):  # the second round is served from the cache
        plain = _pending().event(200, "text/html", 1, classify)
        secure = _pending(scheme="https", query="x=1").event(200, "text/html", 1, classify)
        v6 = _pending(host="[::1]:8080", path="/").event(404, "text/html", 1, classify)
        named = _pending(site="mine.test").event(200, "text/plain", 1, classify)
        assert (plain.url, plain.site, plain.name) == (
            "http://example.com:8000/a%20b",
            "example.com",
            "pageview",
        )
        assert secure.url == "https://example.com:8000/a%20b?x=1"
        assert (v6.url, v6.site, v6.name) == ("http://[::1]:8080/", "[::1]", "request")
        assert (named.site, named.name) == ("mine.test", "request")


def test_a_cached_url_is_served_from_the_cache() -> None:
    from footfall.integrations import request

    request._bases.clear()
    first = _pending(path="/cached").event(200, "text/html", 1, classify)
    key = ("http", "example.com:8000", "/cached")
    assert request._bases[key] == (first.url, first.site)
    request._bases[key] = ("http://example.com:8000/from-cache", "cache.example")
    second = _pending(path="/cached").event(200, "text/html", 1, classify)
    assert (second.url, second.site) == ("http://example.com:8000/from-cache", "cache.example")
    request._bases.clear()


def test_a_custom_classifier_and_name_win_over_the_default() -> None:
    custom = _pending(classify=lambda method, status, ctype: "hit")
    assert custom.finish(200, "text/html", 1).to_event().name == "hit"
    named = _pending(name="shop.view")
    assert named.finish(500, "", 0).to_event().name == "shop.view"


def test_long_urls_are_built_but_not_remembered() -> None:
    from footfall.integrations import request

    long_path = "/" + "x" * 600
    event = _pending(path=long_path).event(200, "text/html", 1, classify)
    assert event.url == "http://example.com:8000" + long_path
    assert ("http", "example.com:8000", long_path) not in request._bases
    _pending(path="/short").event(200, "text/html", 1, classify)
    assert ("http", "example.com:8000", "/short") in request._bases
