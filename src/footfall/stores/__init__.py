"""Stores: where events rest and are queried. `connect(url)` picks one by URL."""

from __future__ import annotations

from urllib.parse import urlsplit

from footfall import settings
from footfall.errors import ConfigurationError
from footfall.redact import redact_url
from footfall.stores.base import EventFilter, Store

__all__ = ["DEFAULT_URL", "EventFilter", "Store", "connect", "default_url", "sqlite_path"]

DEFAULT_URL = settings.DB.default  # sqlite:///./footfall.db


def default_url() -> str:
    """`$FOOTFALL_DB`, or `./footfall.db`."""
    return settings.DB()


def sqlite_path(url: str) -> str | None:
    """The file a `sqlite:` URL names ("" in memory), or None for any other URL.

    After `sqlite://` comes `/` and the path: `sqlite:///footfall.db` is
    relative to the working folder, `sqlite:////var/lib/footfall.db`
    absolute. `connect` and the CLI (which shows and checks the file) read
    URLs by this one rule.
    """
    if urlsplit(url).scheme.lower() != "sqlite":
        return None
    path = url[len("sqlite://") :]
    path = path[1:] if path.startswith("/") else path
    return "" if path == ":memory:" else path


def _extra_missing(exc: ImportError, *packages: str) -> bool:
    """Whether a backend failed to import because one of its extra's `packages` is missing.

    Any other import error is a fault in footfall or its install: it is raised
    as it is, not dressed up as "install the extra".
    """
    return (exc.name or "").split(".")[0] in packages


def connect(url: str | None = None, *, migrate: bool = True, meta: str | None = None) -> Store:
    """Open the store named by `url` and bring its schema up to date.

    `sqlite:///relative/path.db`, `sqlite:////absolute/path.db`, `sqlite://`
    (in memory), `postgresql://...`, `clickhouse://...`. With `meta`, the
    store at that URL keeps the sites, tokens, users, failed events and
    processor state (`Store.attach_meta`); reads of them go there.
    """
    store = _open(url, migrate=migrate)
    if meta and meta != store.url:
        try:
            kept = _open(meta, migrate=migrate)
        except BaseException:
            store.close()
            raise
        try:
            store.attach_meta(kept)
        except BaseException:
            kept.close()
            store.close()
            raise
    return store


def _open(url: str | None, *, migrate: bool) -> Store:
    url = url or default_url()
    scheme = urlsplit(url).scheme.lower()
    store: Store
    if scheme == "sqlite":
        from footfall.stores.sqlite import SQLiteStore  # lazy: imported when its URL is used

        store = SQLiteStore(sqlite_path(url) or ":memory:", url=url)
    elif scheme in ("postgresql", "postgres"):
        try:
            from footfall.stores.postgres import PostgresStore  # optional extra: postgres
        except ImportError as exc:
            if not _extra_missing(exc, "psycopg", "psycopg_pool"):
                raise
            raise ConfigurationError(
                f"the PostgreSQL store needs `pip install 'footfall[postgres]'` ({exc})"
            ) from exc
        store = PostgresStore(url)
    elif scheme == "clickhouse":
        try:
            from footfall.stores.clickhouse import ClickHouseStore  # optional extra: clickhouse
        except ImportError as exc:
            if not _extra_missing(exc, "clickhouse_driver"):
                raise
            raise ConfigurationError(
                f"the ClickHouse store needs `pip install 'footfall[clickhouse]'` ({exc})"
            ) from exc
        store = ClickHouseStore(url)
    else:
        raise ConfigurationError(f"unknown store URL scheme {scheme!r} in {redact_url(url)!r}")
    if migrate:
        store.migrate()
    return store
