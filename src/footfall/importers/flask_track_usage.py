"""Flask-Track-Usage's SQL table -> events -> the default processors -> the store.

`footfall import flask-track-usage URL` reads the table `SQLStorage` wrote
(`flask_usage` unless the app named another) from SQLite or PostgreSQL, so
an app that switches to footfall keeps its history. One row is one tracked
request, and becomes one event (docs/import-export.md says the same for
users):

- `pageview` when the status is 2xx or 304 and the path is not a static
  asset or a file by its extension (the log import's rule; the table has no
  method or content type), else `request`; every row is imported, bots
  flagged `is_bot` as live traffic is, so the stats leave them out;
- `source="server"`, as the middleware records requests, so
  `FootfallStorage.get_usage` lists the imported history with the new rows;
- `url`, `path`, `status`, `speed` (seconds, to `duration_ms`),
  `username` (to `user_id`), `remote_addr` (the IP; `forwarded` takes the
  last address of `xforwardedfor` instead), `ua_language`; the browser, OS
  and version Werkzeug < 2.1 parsed into `ua_*` (Flask-Track-Usage kept no
  user agent string, and under later Werkzeug these are empty), with
  Werkzeug's names turned into the live parser's ("chrome" -> "Chrome");
- `g.track_var`, `blueprint` and `view_args` (JSON) into `props`, as the
  live integration puts them; `ip_info`'s country and city where the app had
  geo on, else geo from the IP like live traffic.

Then the default processors run (geo, UTM, language, visitor id, visits,
privacy: the IP is dropped unless `ip` keeps it) with the log import's
ids (`ids.py`): the event id is a keyed hash of the row, each day's visitor
salt and each visit id derive from the store's import secret. Importing the
same table again stores nothing twice; an interrupted import is resumed by
running it again. Visitors are told apart by IP address per day (and by
user where there is one): with no user agent string, two browsers behind
one address are one visitor.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote, urlsplit

from footfall.errors import ConfigurationError, FootfallError
from footfall.event import MAX_SHORT, MAX_URL, Event
from footfall.importers.ids import ImportIds, import_secret
from footfall.importers.log import NOT_PAGES
from footfall.importers.sqltable import SourceTable
from footfall.integrations.request import STATIC_PATTERNS, PathFilter, safe_props
from footfall.processors import Processor, run_chain
from footfall.processors.defaults import default_processors
from footfall.processors.privacy import IpMode
from footfall.processors.state import MemoryState
from footfall.stores.base import Store
from footfall.stores.meta import normalize_domain

__all__ = ["BATCH_SIZE", "COLUMNS", "TABLE", "FlaskTrackUsageImporter", "TableReport"]

log = logging.getLogger("footfall.importers")

TABLE = "flask_usage"  # SQLStorage's default table_name
BATCH_SIZE = 5_000  # events per store write
BAD_SAMPLES = 5  # bad rows kept for the report
# The columns of Flask-Track-Usage 2.0's table; 1.x tables lack the last two
# (and 1.0 `xforwardedfor`): a missing column reads as empty.
COLUMNS = (
    "url",
    "ua_browser",
    "ua_language",
    "ua_platform",
    "ua_version",
    "blueprint",
    "view_args",
    "status",
    "remote_addr",
    "xforwardedfor",
    "authorization",
    "ip_info",
    "path",
    "speed",
    "datetime",
    "username",
    "track_var",
)

SKIP_SITE = "no site (give --site)"
SKIP_TIME = "outside --since/--until"

# Werkzeug's user agent parser (< 2.1) named browsers and platforms its own
# way; these are the names footfall's parser gives the same software, so
# imported and live events fall into the same rows of a breakdown.
_BROWSERS = {
    "chrome": "Chrome",
    "firefox": "Firefox",
    "safari": "Safari",
    "edge": "Edge",
    "msie": "IE",
    "opera": "Opera",
    "seamonkey": "SeaMonkey",
    "konqueror": "Konqueror",
    "camino": "Camino",
    "galeon": "Galeon",
    "kmeleon": "K-Meleon",
    "netscape": "Netscape",
    "lynx": "Lynx",
    "links": "Links",
    "webkit": "WebKit",
    "mozilla": "Mozilla",
    "aol": "AOL",
    "yandex": "Yandex Browser",
}
_BOTS = {
    "google": "Googlebot",
    "bing": "bingbot",
    "msn": "msnbot",
    "yahoo": "Yahoo! Slurp",
    "ask": "Ask Jeeves",
    "baidu": "Baiduspider",
}
_PLATFORMS = {
    "windows": ("Windows", "desktop"),
    "macos": ("Mac OS X", "desktop"),
    "linux": ("Linux", "desktop"),
    "chromeos": ("Chrome OS", "desktop"),
    "freebsd": ("FreeBSD", "desktop"),
    "openbsd": ("OpenBSD", "desktop"),
    "netbsd": ("NetBSD", "desktop"),
    "solaris": ("Solaris", "desktop"),
    "iphone": ("iOS", "mobile"),
    "ipad": ("iOS", "tablet"),
    "android": ("Android", "mobile"),
    "blackberry": ("BlackBerry OS", "mobile"),
    "symbian": ("Symbian OS", "mobile"),
}


@dataclass
class TableReport:
    """What an import read, stored and skipped, and why."""

    rows: int = 0
    bad: int = 0
    bad_samples: list[tuple[Any, str]] = field(default_factory=list)  # (row id, reason)
    stored: int = 0  # events handed to the store
    new: int = 0  # of which it did not hold yet
    pageviews: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def already(self) -> int:
        """Events the store already held (an earlier import of the same rows)."""
        return self.stored - self.new


class BadRow(FootfallError, ValueError):
    """A row that cannot become an event (no time, a time that is not one)."""


def _utc(value: Any) -> datetime:
    """The `datetime` column: naive UTC (SQLStorage's), a datetime or SQLite's text."""
    if isinstance(value, datetime):
        ts = value
    elif isinstance(value, str) and value:
        try:
            ts = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise BadRow(f"datetime {value[:40]!r} is not a time") from exc
    else:
        raise BadRow("no datetime")
    return ts.replace(tzinfo=timezone.utc) if ts.tzinfo is None else ts.astimezone(timezone.utc)


def _json(value: Any) -> Any:
    if not isinstance(value, str) or not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None  # FTU cut view_args at 64 characters: a long one is not JSON any more


def _text(value: Any) -> str:
    return "" if value is None else str(value).replace("\x00", "")


class FlaskTrackUsageImporter:
    """Turns the rows of a Flask-Track-Usage table into stored events; `report` counts.

    `site` names the site of every row (else each row's URL host).
    `forwarded` takes the client address from `xforwardedfor` (the app was
    behind a proxy) rather than `remote_addr`. `since`/`until` keep rows in
    [since, until) (UTC), e.g. to stop where footfall took over. `secret`
    overrides the store's import secret (tests).
    """

    def __init__(
        self,
        store: Store,
        *,
        site: str | None = None,
        forwarded: bool = False,
        since: datetime | None = None,
        until: datetime | None = None,
        ip: IpMode = "drop",
        geo: bool = True,
        geoip_db: str | None = None,
        batch_size: int = BATCH_SIZE,
        secret: bytes | None = None,
    ) -> None:
        self.store = store
        self.site = normalize_domain(site) if site else ""
        self.forwarded = forwarded
        self.since = since.astimezone(timezone.utc) if since else None
        self.until = until.astimezone(timezone.utc) if until else None
        self.batch_size = max(1, batch_size)
        if secret is None:
            secret = import_secret(store)
        if secret is None:
            log.warning(
                "footfall: %r keeps no processor state, so imported ids are random: "
                "importing the same rows again will store them again",
                store,
            )
            secret = secrets.token_bytes(32)
        self.ids = ImportIds(secret)
        self.chain: list[Processor] = default_processors(
            None,
            geo=geo,
            geoip_db=geoip_db,
            ip=ip,
            state=MemoryState(),
            salts=self.ids.day_salt,
            visit_ids=self.ids.visit_id,
        )
        self.report = TableReport()
        self._pages = PathFilter(exclude=(*STATIC_PATTERNS, *NOT_PAGES), exclude_static=False)
        self._batch: list[Event] = []

    def import_table(self, url: str, table: str = TABLE) -> TableReport:
        """Import every row of `table` in the database at `url` (SQLAlchemy URL)."""
        with SourceTable(url, table) as source:
            if "datetime" not in source.columns:
                raise ConfigurationError(
                    f"table {table!r} has no datetime column: not Flask-Track-Usage's"
                )
            self.feed(source.rows(COLUMNS))
        self.flush()
        return self.report

    def feed(self, rows: Iterable[dict[str, Any]]) -> None:
        """Import `rows` (column -> value, with `id`); full batches are written as they fill."""
        report = self.report
        for row in rows:
            report.rows += 1
            try:
                event = self._event(row)
            except BadRow as exc:
                report.bad += 1
                if len(report.bad_samples) < BAD_SAMPLES:
                    report.bad_samples.append((row.get("id"), str(exc)))
                continue
            if isinstance(event, str):
                report.skipped[event] += 1
                continue
            self._batch.append(event)
            if len(self._batch) >= self.batch_size:
                self.flush()

    def _event(self, row: dict[str, Any]) -> Event | str:
        """The event of one row, or the reason it is skipped."""
        ts = _utc(row.get("datetime"))
        if (self.since and ts < self.since) or (self.until and ts >= self.until):
            return SKIP_TIME
        url = _text(row.get("url"))
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
        site = self.site or normalize_domain(host)
        if not site:
            return SKIP_SITE
        path = _text(row.get("path")) or unquote(parts.path or "/")
        status = row.get("status")
        status = status if isinstance(status, int) and 0 <= status <= 999 else 0
        page = (200 <= status < 300 or status == 304) and self._pages(path)
        speed = row.get("speed")
        ip = _text(row.get("remote_addr"))
        if self.forwarded and row.get("xforwardedfor"):
            ip = _text(row["xforwardedfor"]).rsplit(",", 1)[-1].strip()
        event = Event(
            name="pageview" if page else "request",
            id=self._id(row, site, ts, url, ip),
            ts=ts,
            site=site[:MAX_SHORT],
            source="server",
            url=url[:MAX_URL],
            host=host[:MAX_SHORT],
            path=path[:MAX_SHORT],
            status=status,
            duration_ms=round(float(speed) * 1000.0, 3)
            if isinstance(speed, int | float) and speed > 0
            else 0.0,
            user_id=_text(row.get("username"))[:MAX_SHORT],
            ip=ip[:MAX_SHORT],
            language=_text(row.get("ua_language"))[:MAX_SHORT],
            props=self._props(row),
        )
        self._agent(event, row)
        self._place(event, row)
        return event

    def _id(self, row: dict[str, Any], site: str, ts: datetime, url: str, ip: str) -> str:
        """The row's event id: its key and what it says, so a copy of the table
        (moved from SQLite to PostgreSQL) gives the same ids and another app's
        row 1 does not."""
        line = "\n".join(
            (
                "flask-track-usage",
                str(row.get("id")),
                ts.isoformat(),
                url,
                ip,
                str(row.get("status")),
            )
        )
        return self.ids.event_id(site, line, int(ts.timestamp() * 1000))

    @staticmethod
    def _props(row: dict[str, Any]) -> dict[str, Any]:
        """`g.track_var`, then `blueprint` and `view_args`, as the live integration sets them."""
        track_var = _json(row.get("track_var"))
        props: dict[str, Any] = dict(track_var) if isinstance(track_var, dict) else {}
        if row.get("blueprint"):
            props.setdefault("blueprint", _text(row["blueprint"]))
        view_args = _json(row.get("view_args"))
        if isinstance(view_args, dict) and view_args:
            props.setdefault("view_args", view_args)
        return safe_props(props) if props else props

    @staticmethod
    def _agent(event: Event, row: dict[str, Any]) -> None:
        browser = _text(row.get("ua_browser")).lower()
        if browser in _BOTS:
            event.browser, event.is_bot, event.device = _BOTS[browser], True, "bot"
        elif browser:
            event.browser = _BROWSERS.get(browser, browser.title())[:MAX_SHORT]
        if event.browser:
            event.browser_version = _text(row.get("ua_version"))[:MAX_SHORT]
        platform = _text(row.get("ua_platform")).lower()
        if platform:
            os_name, device = _PLATFORMS.get(platform, (platform.title(), ""))
            event.os = os_name[:MAX_SHORT]
            if not event.device:
                event.device = device

    @staticmethod
    def _place(event: Event, row: dict[str, Any]) -> None:
        """Country and city from `ip_info` (what the app's geo service said), if any."""
        info = _json(row.get("ip_info"))
        if not isinstance(info, dict):
            return
        country = info.get("countryCode") or info.get("country_code")
        if isinstance(country, str) and len(country) == 2 and country.isalpha():
            event.country = country.upper()
            city = info.get("city")
            if isinstance(city, str):
                event.city = city[:MAX_SHORT]

    def flush(self) -> None:
        """Write what is batched: through the processors, then into the store."""
        batch, self._batch = self._batch, []
        if not batch:
            return
        events = run_chain(self.chain, batch)
        report = self.report
        report.new += self.store.write(events)
        report.stored += len(events)
        report.pageviews += sum(1 for e in events if e.name == "pageview")
