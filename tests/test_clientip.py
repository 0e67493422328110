"""The one client-address rule shared by the collector, the integrations and the login limiter."""

from __future__ import annotations

import pytest

from footfall import settings
from footfall.clientip import client_ip, client_key, header_value


@pytest.mark.parametrize(
    ("forwarded", "trusted", "expected"),
    [
        ("6.6.6.6", 0, "10.0.0.1"),  # no proxy: the header is the client's own
        (None, 1, "10.0.0.1"),
        ("6.6.6.6, 203.0.113.7", 1, "203.0.113.7"),
        ("6.6.6.6, 198.51.100.4, 10.0.0.2", 2, "198.51.100.4"),
        # Fewer entries than proxies: all sit where only our proxies write.
        ("203.0.113.7", 2, "203.0.113.7"),
        ("203.0.113.7, 10.0.0.2", 3, "203.0.113.7"),
        ("6.6.6.6, unknown", 1, ""),  # not an address: none rather than a chosen one
        ("203.0.113.7:5555", 1, "203.0.113.7"),
        ("[2001:db8::1]:443", 1, "2001:db8::1"),
    ],
)
def test_walks_the_header_from_the_right(
    forwarded: str | None, trusted: int, expected: str
) -> None:
    assert client_ip("10.0.0.1", forwarded, trusted) == expected


def test_forwarded_header_for_values() -> None:
    header = 'for=6.6.6.6;proto=https, for="[2001:db8:cafe::17]:4711";by=10.0.0.1'
    assert client_ip("10.0.0.1", header, 1, "forwarded") == "2001:db8:cafe::17"
    assert client_ip("10.0.0.1", header, 2, "forwarded") == "6.6.6.6"


def test_every_header_line_is_read_in_order() -> None:
    # The client's own line first, then the one our proxy added.
    headers = [
        (b"x-forwarded-for", b"6.6.6.6"),
        (b"host", b"example.com"),
        (b"x-forwarded-for", b"203.0.113.7"),
    ]
    joined = header_value(headers, b"x-forwarded-for")
    assert joined == "6.6.6.6, 203.0.113.7"
    assert client_ip("10.0.0.1", joined, 1) == "203.0.113.7"


def test_a_huge_header_is_read_from_its_right_end() -> None:
    header = "6.6.6.6, " * 5_000 + "203.0.113.7"
    assert client_ip("10.0.0.1", header, 1) == "203.0.113.7"


def test_ipv6_clients_are_keyed_by_their_64() -> None:
    assert client_key("203.0.113.9") == "203.0.113.9"
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:bbbb::2")
    assert client_key("2001:db8:1:2::5") == "2001:db8:1:2::"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("::ffff:203.0.113.9") == "203.0.113.9"  # a dual-stack socket's IPv4
    assert client_key("not:an:ip") == "not:an:ip"


def test_one_setting_for_the_proxy_count() -> None:
    assert settings.TRUSTED_PROXIES({}) == 0
    assert settings.TRUSTED_PROXIES({"FOOTFALL_TRUSTED_PROXIES": " 2 "}) == 2
    with pytest.raises(ValueError, match="FOOTFALL_TRUSTED_PROXIES"):
        settings.TRUSTED_PROXIES({"FOOTFALL_TRUSTED_PROXIES": "-1"})


def test_collector_and_integrations_share_the_function() -> None:
    from footfall.collector import routes
    from footfall.integrations import request

    assert routes.client_ip is client_ip and request.client_ip is client_ip
