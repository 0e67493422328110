"""IP address to country, region and city, offline: never a network call.

With a MaxMind-format database (GeoLite2/GeoIP2 City or Country, DB-IP
lite, ...) named by `path` or `$FOOTFALL_GEOIP_DB`, lookups go through
`maxminddb` (its C extension where installed) and give country, region and
city. Without one, the country database shipped inside the `geoip2fast`
package answers (country only): zero configuration, no download.

`country` is the ISO 3166-1 alpha-2 code ("DE"); `region` is the ISO 3166-2
subdivision code ("DE-BY") when the database has one, else its name; `city`
is the English name. Private, reserved and unknown addresses get nothing.
Results are cached per IP.
"""

from __future__ import annotations

import bisect
import functools
import ipaddress
import logging
import os
import socket
import threading
from typing import Any, NamedTuple

from footfall import settings
from footfall.event import MAX_SHORT, Event

__all__ = ["GeoProcessor", "Place", "is_global"]

log = logging.getLogger("footfall.processors")

CACHE_SIZE = 50_000  # distinct IPs remembered per process
_FALLBACK_FILE = "geoip2fast-ipv6.dat.gz"  # IPv4 and IPv6 countries, shipped by geoip2fast


class Place(NamedTuple):
    country: str
    region: str
    city: str


_NOWHERE = Place("", "", "")


def _name(record: Any, language: str) -> str:
    if not isinstance(record, dict):
        return ""
    names = record.get("names")
    if isinstance(names, dict):
        return str(names.get(language) or names.get("en") or "")
    return ""


def place_from_record(record: Any, language: str = "en") -> Place:
    """Country, region and city from a MaxMind City/Country record."""
    if not isinstance(record, dict):
        return _NOWHERE
    country_rec = record.get("country") or record.get("registered_country") or {}
    country = str(country_rec.get("iso_code") or "") if isinstance(country_rec, dict) else ""
    region = ""
    subs = record.get("subdivisions")
    if isinstance(subs, list) and subs and isinstance(subs[0], dict):
        code = subs[0].get("iso_code")
        region = f"{country}-{code}" if code and country else _name(subs[0], language)
    city = _name(record.get("city"), language)
    return Place(country[:MAX_SHORT], str(region)[:MAX_SHORT], city[:MAX_SHORT])


def _ipv4_global_ranges() -> tuple[list[int], list[bool]]:
    """`is_global` of every IPv4 address as ranges: their first addresses and verdicts.

    Cut at the edges of every network `ipaddress` itself tests against, and
    each range's verdict asked of `ipaddress`, so the answer is the
    interpreter's, at one bisection instead of a scan of its networks.
    """
    # Private: where a Python lacks it, every address goes through `ipaddress`.
    constants = getattr(ipaddress, "_IPv4Constants", None)
    if constants is None:
        return [], []
    edges = {0, 100 << 24 | 64 << 16, 100 << 24 | 128 << 16}  # + 100.64/10, tested apart in 3.11
    for value in vars(constants).values():
        for net in value if isinstance(value, list) else [value]:
            if isinstance(net, ipaddress.IPv4Network):
                edges.update((int(net.network_address), int(net.broadcast_address) + 1))
            elif isinstance(net, ipaddress.IPv4Address):
                edges.update((int(net), int(net) + 1))
    starts = sorted(e for e in edges if e < 1 << 32)
    return starts, [ipaddress.IPv4Address(s).is_global for s in starts]


_V4_STARTS, _V4_GLOBAL = _ipv4_global_ranges()


def is_global(ip: str) -> bool:
    """`ipaddress.ip_address(ip).is_global`, False for what is not an address; fast for IPv4.

    `inet_pton` takes exactly the dotted quads `ipaddress` takes (no leading
    zeros); everything else goes to `ipaddress`.
    """
    try:
        if not _V4_STARTS:
            raise ValueError(ip)
        n = int.from_bytes(socket.inet_pton(socket.AF_INET, ip), "big")
    except (OSError, ValueError):
        try:
            return ipaddress.ip_address(ip).is_global
        except ValueError:
            return False
    return _V4_GLOBAL[bisect.bisect_right(_V4_STARTS, n) - 1]


_fallback: Any = None
_fallback_lock = threading.Lock()


def _fallback_db() -> Any:
    """geoip2fast keeps its data in module globals: load it once per process."""
    global _fallback
    if _fallback is None:
        with _fallback_lock:
            if _fallback is None:
                from geoip2fast import GeoIP2Fast

                _fallback = GeoIP2Fast(geoip2fast_data_file=_FALLBACK_FILE)
    return _fallback


class GeoProcessor:
    """Fills country, region and city from `event.ip` where still empty.

    `path` (or `$FOOTFALL_GEOIP_DB`) names a MaxMind-format `.mmdb` file;
    without one the geoip2fast country database is used when `fallback` is
    true. A file that cannot be opened is an error at construction, not a
    silent loss of geo data.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        fallback: bool = True,
        language: str = "en",
        cache_size: int = CACHE_SIZE,
    ) -> None:
        path = path or settings.GEOIP_DB()
        self.path = str(path) if path else ""
        self.language = language
        self._reader: Any = None
        if self.path:
            import maxminddb

            self._reader = maxminddb.open_database(self.path)
            self.source = f"mmdb:{self.path}"
        elif fallback:
            self.source = "geoip2fast"
        else:
            self.source = "none"
        self.lookup = functools.lru_cache(maxsize=cache_size)(self._lookup)

    def _lookup(self, ip: str) -> Place:
        if not is_global(ip):
            return _NOWHERE
        if self._reader is not None:
            return place_from_record(self._reader.get(ip), self.language)
        if self.source == "geoip2fast":
            result = _fallback_db().lookup(ip)
            code = str(result.country_code or "")
            if len(code) == 2 and code.isalpha() and not result.is_private:
                return Place(code.upper(), "", "")
        return _NOWHERE

    def warm(self) -> None:
        """Load the database now (see `UserAgentProcessor.warm`)."""
        self._lookup("8.8.8.8")

    def __call__(self, event: Event) -> Event:
        if not event.ip or event.country:
            return event
        place = self.lookup(event.ip)
        if place.country:
            event.country = place.country
            event.region = event.region or place.region
            event.city = event.city or place.city
        return event

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()

    def __repr__(self) -> str:
        return f"GeoProcessor(source={self.source!r})"
