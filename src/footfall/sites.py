"""Sites and API tokens as a small Python API (used by the CLI and demo data).

Thin functions over `footfall.stores.meta.open_meta(store)`, so every store
backend that implements `Meta` gets them.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from footfall.errors import ValidationError
from footfall.stores.base import Store
from footfall.stores.meta import Site, Token, new_token, normalize_domain, open_meta

__all__ = ["add_site", "create_token", "edit_site", "list_sites", "list_tokens", "remove_site"]

MAX_DOMAIN = 253


def _check_domain(domain: str) -> str:
    d = normalize_domain(domain)
    if not d or len(d) > MAX_DOMAIN or any(c.isspace() or c in "\x00\"'<>\\" for c in d):
        raise ValidationError("domain", f"{domain[:100]!r} is not a domain name")
    return d


def _check_timezone(timezone: str) -> str:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError("timezone", f"unknown time zone {timezone!r}") from None
    return timezone


def add_site(store: Store, domain: str, timezone: str = "UTC", public: bool = False) -> bool:
    """Register a site; False if it already existed (it is left unchanged)."""
    return open_meta(store).add_site(Site(_check_domain(domain), _check_timezone(timezone), public))


def edit_site(
    store: Store, domain: str, timezone: str | None = None, public: bool | None = None
) -> Site:
    """Change a site's time zone or public flag (None: unchanged); return it as stored now."""
    if timezone is not None:
        _check_timezone(timezone)
    found = open_meta(store).update_site(_check_domain(domain), timezone, public)
    if found is None:
        raise ValidationError("domain", f"unknown site {normalize_domain(domain)!r}")
    return found


def remove_site(store: Store, domain: str) -> int:
    """Unregister a site and revoke its own tokens; return how many tokens that revoked.

    Its events stay (the caller deletes them first, when it means to).
    """
    revoked = open_meta(store).remove_site(_check_domain(domain))
    if revoked is None:
        raise ValidationError("domain", f"unknown site {normalize_domain(domain)!r}")
    return revoked


def list_sites(store: Store) -> list[Site]:
    return open_meta(store).list_sites()


def create_token(store: Store, name: str, site: str | None = None) -> tuple[Token, str]:
    """Make an API token (for every site, or one); return it and its secret, shown once."""
    if not name.strip() or len(name) > 200:
        raise ValidationError("name", "must be 1-200 characters")
    meta = open_meta(store)
    domain = ""
    if site:
        domain = _check_domain(site)
        if meta.get_site(domain) is None:
            raise ValidationError(
                "site", f"unknown site {domain!r} (add it with `footfall sites add`)"
            )
    secret, digest, prefix = new_token()
    return meta.add_token(name.strip(), domain, digest, prefix), secret


def list_tokens(store: Store) -> list[Token]:
    return open_meta(store).list_tokens()
