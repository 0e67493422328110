"""Which address a request came from, and which bucket that address falls in.

One rule for every part that needs a client address: the collector (rate
limits, cookieless visitors), the web integrations (the event's `ip`) and the
dashboard's login limiter. It lives here, below all of them, and imports
nothing from footfall, so any layer may call it.

The rule. `trusted_proxies` says how many reverse proxies stand in front of
the server, each appending the address it saw to the proxy header
(`X-Forwarded-For`, or the `for=` values of RFC 7239 `Forwarded`). The socket
peer is the innermost proxy. Walking the header from the right, the first
`trusted_proxies - 1` entries are the other proxies' addresses and the next
one is the client's: the address the outermost proxy saw. Entries further
left were written by the client and are never read. When the header has fewer
entries than that, every entry in it sits where only our proxies write, so the
left-most one - the first address any of our proxies saw - is the client (the
request reached an inner proxy directly; uvicorn's `proxy_headers` takes the
same one when every hop is trusted). Taking the peer instead would put every
such client behind one address: one client could then lock all of them out.
With `trusted_proxies = 0` the header is ignored and the peer is the client.
An entry that is not an IP address (`unknown`, `_hidden`, garbage) gives ""
- no address rather than one the client chose.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

__all__ = [
    "PROXY_HEADERS",
    "client_ip",
    "client_key",
    "header_value",
]

PROXY_HEADERS = ("x-forwarded-for", "forwarded")
_MAX_HEADER = 8_000  # longer proxy headers are cut from the left: only the right end is read


def header_value(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str:
    """Every line of header `name` (lower-case) in an ASGI header list, joined with ', '.

    A proxy may add its own header line rather than append to the client's
    (HAProxy's `option forwardfor` does), so reading only the first or the
    last line could read the client's.
    """
    values = [value.decode("latin-1") for key, value in headers if key == name]
    return ", ".join(values)


def _clean_ip(raw: str) -> str:
    """A bare, valid IP from a header entry (`1.2.3.4:80`, `"[::1]:443"`), or ''."""
    value = raw.strip().strip('"')
    if value.startswith("["):
        value = value[1 : value.find("]")] if "]" in value else ""
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]  # IPv4 with a port
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return ""


def _forwarded_for(header: str) -> list[str]:
    """The `for=` values of an RFC 7239 `Forwarded` header, in order."""
    hops: list[str] = []
    for element in header.split(","):
        for pair in element.split(";"):
            key, sep, value = pair.partition("=")
            if sep and key.strip().lower() == "for":
                hops.append(value)
    return hops


def client_ip(
    peer: str | None,
    forwarded: str | None,
    trusted_proxies: int,
    proxy_header: str = "x-forwarded-for",
) -> str:
    """The client address under the module's rule.

    `forwarded` is the value of the one header the proxies set
    (`proxy_header`: `x-forwarded-for` or `forwarded`), every line of it;
    reading only that one stops a client from smuggling the other.
    """
    if trusted_proxies <= 0 or not forwarded:
        return peer or ""
    if len(forwarded) > _MAX_HEADER:
        forwarded = forwarded[-_MAX_HEADER:]
    hops = _forwarded_for(forwarded) if proxy_header == "forwarded" else forwarded.split(",")
    if not hops:
        return peer or ""
    return _clean_ip(hops[-min(trusted_proxies, len(hops))])


def client_key(ip: str) -> str:
    """The bucket of an address for limits: itself for IPv4, its /64 for IPv6.

    One IPv6 host typically has a whole /64 to pick addresses from, so a
    bucket per address would be no limit at all. An IPv4-mapped IPv6 address
    counts as its IPv4 address.
    """
    if ":" not in ip:
        return ip
    try:
        address = ipaddress.IPv6Address(ip.split("%", 1)[0])
    except ValueError:
        return ip
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.IPv6Network((address, 64), strict=False).network_address)
