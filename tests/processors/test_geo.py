"""Geo from a MaxMind-format database written here, and from the shipped fallback."""

from __future__ import annotations

import ipaddress
import random
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from footfall.event import Event
from footfall.processors import geo
from footfall.processors.geo import GeoProcessor


@pytest.fixture
def mmdb(tmp_path: Path) -> Path:
    """A small GeoIP2-City-shaped database, IPv4 and IPv6."""
    netaddr = pytest.importorskip("netaddr")
    writer_mod = pytest.importorskip("mmdb_writer")
    writer = writer_mod.MMDBWriter(
        ip_version=6, ipv4_compatible=True, database_type="GeoIP2-City", languages=["en"]
    )
    writer.insert_network(
        netaddr.IPSet(["5.9.0.0/24"]),
        {
            "country": {"iso_code": "DE", "names": {"en": "Germany"}},
            "subdivisions": [{"iso_code": "BY", "names": {"en": "Bavaria"}}],
            "city": {"names": {"en": "Munich", "de": "München"}},
        },
    )
    writer.insert_network(
        netaddr.IPSet(["2.2.2.0/24"]),
        {"country": {"iso_code": "FR", "names": {"en": "France"}}},  # a country-only record
    )
    writer.insert_network(
        netaddr.IPSet(["2a01:4f8:1::/48"]),
        {
            "country": {"iso_code": "JP", "names": {"en": "Japan"}},
            "subdivisions": [{"names": {"en": "Tokyo"}}],
            "city": {"names": {"en": "Tokyo"}},
        },
    )
    path = tmp_path / "test-city.mmdb"
    writer.to_db_file(str(path))
    return path


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any attempt to open a network connection fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("geo lookup tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "gethostbyaddr", refuse)
    yield


def lookup(proc: GeoProcessor, ip: str) -> tuple[str, str, str]:
    event = proc(Event(name="pageview", ip=ip))
    return event.country, event.region, event.city


def test_mmdb_country_region_city(mmdb: Path, no_network: None) -> None:
    proc = GeoProcessor(mmdb)
    assert proc.source == f"mmdb:{mmdb}"
    assert lookup(proc, "5.9.0.7") == ("DE", "DE-BY", "Munich")
    assert lookup(proc, "2.2.2.1") == ("FR", "", "")
    assert lookup(proc, "2a01:4f8:1::5") == ("JP", "Tokyo", "Tokyo")
    assert lookup(proc, "1.1.1.1") == ("", "", "")  # not in this database
    proc.close()


def test_mmdb_other_language(mmdb: Path) -> None:
    proc = GeoProcessor(mmdb, language="de")
    assert lookup(proc, "5.9.0.7")[2] == "München"


def test_mmdb_path_from_environment(mmdb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOOTFALL_GEOIP_DB", str(mmdb))
    assert lookup(GeoProcessor(), "5.9.0.7") == ("DE", "DE-BY", "Munich")


def test_missing_database_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        GeoProcessor(tmp_path / "nope.mmdb")


def test_fallback_ships_countries(no_network: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FOOTFALL_GEOIP_DB", raising=False)
    proc = GeoProcessor()
    assert proc.source == "geoip2fast"
    assert lookup(proc, "8.8.8.8")[0] == "US"
    assert lookup(proc, "81.2.69.142")[0] == "GB"
    assert lookup(proc, "2a00:1450:4001:82b::200e")[0] == "DE"


@pytest.mark.parametrize("ip", ["10.1.2.3", "127.0.0.1", "192.168.0.1", "::1", "not-an-ip", ""])
def test_private_and_invalid_get_nothing(ip: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FOOTFALL_GEOIP_DB", raising=False)
    assert lookup(GeoProcessor(), ip) == ("", "", "")


def test_no_fallback_means_no_geo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FOOTFALL_GEOIP_DB", raising=False)
    assert lookup(GeoProcessor(fallback=False), "8.8.8.8") == ("", "", "")


def test_country_already_set_is_kept(mmdb: Path) -> None:
    event = GeoProcessor(mmdb)(Event(name="x", ip="5.9.0.7", country="AT"))
    assert (event.country, event.city) == ("AT", "")


def _reference_is_global(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_global
    except ValueError:
        return False


def test_is_global_is_ipaddress_verdict() -> None:
    """The bisection over ranges answers as `ipaddress` does: at every edge of its
    networks, on either side, for random addresses, and for what is not an IPv4."""
    rng = random.Random(3)
    ips = [str(ipaddress.IPv4Address(rng.getrandbits(32))) for _ in range(20_000)]
    for start in geo._V4_STARTS:
        ips += [
            str(ipaddress.IPv4Address(n)) for n in (start - 1, start, start + 1) if 0 <= n < 2**32
        ]
    ips += ["01.2.3.4", "1.2.3", "1.2.3.4 ", "256.1.1.1", "1.2.3.4\x00", "-", "", "::1",
            "2001:4860:4860::8888", "fe80::1%eth0", "::ffff:8.8.8.8", "100.64.0.1"]  # fmt: skip
    assert len(geo._V4_STARTS) > 10
    assert [geo.is_global(ip) for ip in ips] == [_reference_is_global(ip) for ip in ips]
