"""Privacy, the last step: what leaves the worker holds no raw IP by default.

Geo and the visitor id have used the IP by the time this runs. Then the IP is
dropped ("drop", the default), cut to its network ("truncate": the /24 of
IPv4, the /48 of IPv6, which still says roughly where but not who), or kept
("keep", for operators with a legal basis to). The user agent can be dropped
too once it has been parsed.
"""

from __future__ import annotations

import functools
import ipaddress
from typing import Literal

from footfall.event import Event

__all__ = ["IP_MODES", "PrivacyProcessor", "truncate_ip"]

IpMode = Literal["drop", "truncate", "keep"]
IP_MODES: tuple[str, ...] = ("drop", "truncate", "keep")
IPV4_PREFIX = 24
IPV6_PREFIX = 48


@functools.lru_cache(maxsize=10_000)
def truncate_ip(ip: str) -> str:
    """The network address of `ip`'s /24 (IPv4) or /48 (IPv6); "" if not an IP."""
    try:
        addr = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    prefix = IPV4_PREFIX if addr.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False).network_address)


class PrivacyProcessor:
    """Drops or truncates `event.ip`; optionally drops `event.user_agent`."""

    def __init__(self, ip: IpMode = "drop", *, drop_user_agent: bool = False) -> None:
        if ip not in IP_MODES:
            raise ValueError(f"ip must be one of {', '.join(IP_MODES)}, not {ip!r}")
        self.ip_mode = ip
        self.drop_user_agent = drop_user_agent

    def anonymise_ip(self, ip: str) -> str:
        """`ip` as this step leaves it (also applied to failed events' payloads)."""
        if not ip or self.ip_mode == "keep":
            return ip
        return truncate_ip(ip) if self.ip_mode == "truncate" else ""

    def __call__(self, event: Event) -> Event:
        if event.ip:
            event.ip = self.anonymise_ip(event.ip)
        if self.drop_user_agent:
            event.user_agent = ""
        return event

    def __repr__(self) -> str:
        return f"PrivacyProcessor(ip={self.ip_mode!r}, drop_user_agent={self.drop_user_agent})"
