"""Umami's `website_event` table (exported as CSV) -> events.

Umami keeps one row per page view or custom event, so its history becomes
footfall events, not aggregates. The CSV is the table as `COPY website_event
TO ... CSV HEADER` (PostgreSQL) or any client writes it, with Umami's column
names (prisma/schema.prisma, model WebsiteEvent): `event_id`, `website_id`,
`session_id`, `visit_id`, `created_at`, `url_path`, `url_query`,
`referrer_path`, `referrer_query`, `referrer_domain`, `page_title`,
`event_type`, `event_name`, `hostname`, `utm_source`, `utm_medium`,
`utm_campaign`, `utm_content`, `utm_term`. Umami keeps browser, OS, device,
country, region and city on its `session` table: a CSV of the two joined
(`website_event JOIN session USING (session_id)`) may add those columns
(`browser`, `os`, `device`, `country`, `region` or `subdivision1`, `city`),
and they are used as they are. Only `event_id`, `session_id`, `created_at`
and `url_path` are required.

- `event_type` 1 is a page view, 2 a custom event named `event_name`; other
  types (Umami's link and pixel hits) are counted and skipped;
- the event's id derives from Umami's `event_id`, its visitor id from
  `session_id` and its visit id from `visit_id` (or, in exports without it,
  from the session's events 30 minutes apart or less), each a keyed hash
  under the store's import secret (`ids.py`): importing the file again
  stores nothing twice, and Umami's ids do not leak into footfall's;
- the referrer's source name and UTM from the URL come from the same
  processors as live traffic; a row that cannot be read (no id, a time
  that is not one) is counted and reported, never fatal.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import secrets
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from footfall.errors import FootfallError
from footfall.event import MAX_NAME, MAX_SHORT, MAX_URL, Event
from footfall.importers.ids import ImportIds, import_secret
from footfall.processors import Processor, run_chain
from footfall.processors.referrer import ReferrerProcessor
from footfall.processors.utm import UtmProcessor
from footfall.stores.base import Store
from footfall.stores.meta import normalize_domain

__all__ = ["REQUIRED", "VISIT_GAP", "UmamiReport", "umami_import"]

log = logging.getLogger("footfall.importers")

REQUIRED = ("event_id", "session_id", "created_at", "url_path")
VISIT_GAP = timedelta(minutes=30)  # a session's events further apart start a new visit
BATCH_SIZE = 5_000
BAD_SAMPLES = 5
_DEVICES = {"desktop", "laptop", "mobile", "tablet"}
# Umami's browser and OS names (detect-browser's) -> footfall's (useragent.py).
_BROWSERS = {
    "chrome": "Chrome",
    "crios": "Chrome Mobile iOS",
    "chromium-webview": "Chrome Mobile WebView",
    "firefox": "Firefox",
    "fxios": "Firefox iOS",
    "safari": "Safari",
    "ios": "Mobile Safari",
    "ios-webview": "Mobile Safari UI/WKWebView",
    "edge": "Edge",
    "edge-chromium": "Edge",
    "edge-ios": "Edge Mobile",
    "opera": "Opera",
    "samsung": "Samsung Internet",
    "yandexbrowser": "Yandex Browser",
}
_OSES = {"Mac OS": "Mac OS X", "Android OS": "Android", "Linux": "Linux", "iOS": "iOS"}
_SKIP_TYPE = "event_type is neither 1 (page view) nor 2 (custom event)"


@dataclass
class UmamiReport:
    """What an Umami import read, stored and skipped."""

    rows: int = 0
    bad: int = 0
    bad_samples: list[tuple[int, str]] = field(default_factory=list)  # (line, why)
    skipped: Counter[str] = field(default_factory=Counter)
    stored: int = 0
    new: int = 0
    pageviews: int = 0

    @property
    def already(self) -> int:
        return self.stored - self.new


class _BadRow(FootfallError, ValueError):
    pass


def _time(text: str) -> datetime:
    value = text.strip().replace(" ", "T", 1)
    if re.search(r"[+-]\d\d$", value):
        value += ":00"  # PostgreSQL writes "+00"; fromisoformat wants "+00:00"
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _BadRow(f"created_at {text[:40]!r} is not a time") from None
    return ts.replace(tzinfo=timezone.utc) if ts.tzinfo is None else ts.astimezone(timezone.utc)


def _get(row: dict[str, str | None], key: str, limit: int = MAX_SHORT) -> str:
    return (row.get(key) or "").replace("\x00", "").strip()[:limit]


class _Reader:
    def __init__(self, site: str, ids: ImportIds) -> None:
        self.site = site
        self.ids = ids

    def event(self, row: dict[str, str | None]) -> Event | str:
        for key in REQUIRED:
            if not _get(row, key):
                raise _BadRow(f"no {key}")
        kind = _get(row, "event_type") or "1"
        if kind not in ("1", "2"):
            return _SKIP_TYPE
        ts = _time(_get(row, "created_at"))
        name = "pageview" if kind == "1" else _get(row, "event_name", MAX_NAME)
        if not name:
            raise _BadRow("a custom event (event_type 2) without event_name")
        host = _get(row, "hostname") or self.site
        path = _get(row, "url_path")
        query = _get(row, "url_query", MAX_URL)
        url = f"https://{host}{path}" + (f"?{query}" if query else "")
        ref_host = _get(row, "referrer_domain")
        referrer = ""
        if ref_host:
            ref_query = _get(row, "referrer_query")
            referrer = f"https://{ref_host}{_get(row, 'referrer_path') or '/'}" + (
                f"?{ref_query}" if ref_query else ""
            )
        ms = int(ts.timestamp() * 1000)
        event = Event(
            name=name,
            id=self.ids.event_id(self.site, f"umami\n{_get(row, 'event_id')}", ms),
            ts=ts,
            site=self.site,
            source="browser",
            url=url[:MAX_URL],
            host=host,
            path=path,
            title=_get(row, "page_title"),
            referrer=referrer[:MAX_URL],
            visitor_id=self.ids.visitor_id(self.site, _get(row, "session_id")),
            browser=_BROWSERS.get(_get(row, "browser"), _get(row, "browser")),
            country=_get(row, "country").upper()[:2],
            region=_get(row, "region") or _get(row, "subdivision1"),
            city=_get(row, "city"),
        )
        os_name = _get(row, "os")
        if os_name.startswith("Windows "):  # "Windows 10": the name and its version
            event.os, event.os_version = "Windows", os_name[len("Windows ") :]
        else:
            event.os = _OSES.get(os_name, os_name)
        device = _get(row, "device").lower()
        event.device = "desktop" if device == "laptop" else device if device in _DEVICES else ""
        for key in ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"):
            setattr(event, key, _get(row, key))
        # The visit: Umami's own, or the session's (split at VISIT_GAP by `_visits`).
        event.visit_id = _get(row, "visit_id")
        return event


def _visits(events: list[Event], ids: ImportIds) -> None:
    """Visit ids: one per Umami visit_id, else per run of a session's events no more
    than VISIT_GAP apart; each derived from the visit's first event."""
    groups: dict[tuple[str, str], list[Event]] = defaultdict(list)
    for e in events:
        groups[(e.visitor_id, e.visit_id)].append(e)
    for (visitor, foreign), group in groups.items():
        group.sort(key=lambda e: (e.ts, e.id))
        start = group[0].ts
        last = start
        for e in group:
            if not foreign and e.ts - last > VISIT_GAP:
                start = e.ts
            last = e.ts
            key = (e.site, visitor)
            e.visit_id = ids.visit_id(key, int(start.timestamp() * 1_000_000))


def umami_import(
    store: Store, site: str, path: Path, *, secret: bytes | None = None
) -> UmamiReport:
    """Import Umami's `website_event` CSV at `path` into `store` as `site`'s events."""
    site = normalize_domain(site)
    if secret is None:
        secret = import_secret(store)
    if secret is None:
        log.warning(
            "footfall: %r keeps no processor state, so imported ids are random: "
            "importing the same file again will store its events again",
            store,
        )
        secret = secrets.token_bytes(32)
    ids = ImportIds(secret)
    reader = _Reader(site, ids)
    report = UmamiReport()
    events: list[Event] = []
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    rows = csv.DictReader(io.StringIO(text))
    for row in rows:
        report.rows += 1
        try:
            found = reader.event(row)
        except _BadRow as exc:
            report.bad += 1
            if len(report.bad_samples) < BAD_SAMPLES:
                report.bad_samples.append((rows.line_num, str(exc)))
            continue
        if isinstance(found, str):
            report.skipped[found] += 1
            continue
        events.append(found)
    _visits(events, ids)
    events.sort(key=lambda e: (e.ts, e.id))
    chain: list[Processor] = [ReferrerProcessor(), UtmProcessor()]
    for i in range(0, len(events), BATCH_SIZE):
        batch = run_chain(chain, events[i : i + BATCH_SIZE])
        report.new += store.write(batch)
        report.stored += len(batch)
        report.pageviews += sum(1 for e in batch if e.name == "pageview")
    return report
