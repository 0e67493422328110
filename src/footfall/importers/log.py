"""Access-log lines -> events -> the default processors -> the store.

What becomes what (docs/import-export.md says the same for users):

- a **page view** is a GET answered 2xx or 304, for a path that is not a
  static asset or a file by its extension (the middlewares' static patterns
  plus downloads, feeds and data files, `NOT_PAGES`) and, where the format
  logs the response's content type, whose type is HTML;
- everything else parsed is a **request** (assets, other methods, redirects,
  errors) and bots' requests, flagged `is_bot` by the same bot processor as
  live traffic: by default they are counted by reason and skipped, and
  `keep_requests` stores them as `request` events (bots' page views as
  `pageview` with `is_bot`, as live traffic stores them);
- a line that is not in the format is a **bad line**: counted, the first few
  kept for the report, never fatal.

Every event then goes through `default_processors` (user agent, bots, geo
from the IP, referrer source, UTM, visitor id, visits, privacy) with two
differences that make a re-import give the same ids (`ids.py`): each day's
visitor salt and each visit id are derived from the store's import secret,
and visits are computed in this process's memory, across every file of one
run (rotated files given together make whole visits).

Events are written through the store directly, `batch_size` at a time, each
batch through the processors' batch paths first. Event ids come from the
line, so a batch written twice (a re-import, a resumed crash) stores nothing
twice: the store reports how many were new.
"""

from __future__ import annotations

import logging
import secrets
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from footfall.event import MAX_REFERRER, MAX_SHORT, MAX_URL, Event
from footfall.importers.ids import ImportIds, import_secret
from footfall.importers.logformat import LogFormat
from footfall.importers.logline import BadLine
from footfall.integrations.request import STATIC_PATTERNS, PathFilter
from footfall.processors import Processor, run_chain
from footfall.processors.bots import BotProcessor
from footfall.processors.defaults import default_processors
from footfall.processors.privacy import IpMode
from footfall.processors.state import MemoryState
from footfall.stores.base import Store
from footfall.stores.meta import normalize_domain

__all__ = [
    "BAD_SAMPLES",
    "BATCH_SIZE",
    "NOT_PAGES",
    "SKIPS",
    "ImportReport",
    "LogImporter",
]

log = logging.getLogger("footfall.importers")

BATCH_SIZE = 20_000  # events per store write: large, since nobody waits on a request
BAD_SAMPLES = 5  # bad lines kept for the report
SAME_LINE_WINDOW = 120  # seconds of log time within which identical lines are told apart

# Files that are not pages, beyond the middlewares' static assets: a log sees
# downloads, feeds and data files the middleware would have known by their
# content type.
NOT_PAGES: tuple[str, ...] = tuple(
    f"*.{ext}"
    for ext in (
        "xml json txt csv pdf rss atom webmanifest zip gz tgz tar bz2 xz 7z rar exe dmg msi "
        "deb rpm apk iso jar wasm doc docx xls xlsx ppt pptx odt ods bmp tif tiff heic mov "
        "avi mkv flv ogg wav flac m4a aac swf"
    ).split()
)

# Why a parsed line was not stored (the report's keys).
SKIP_METHOD = "not a GET"
SKIP_STATUS = "status not 2xx/304"
SKIP_ASSET = "asset or file, not a page"
SKIP_BOT = "bot"
SKIP_REQUEST = "unreadable request line"
SKIP_SITE = "no site (give --site)"
SKIPS = (SKIP_ASSET, SKIP_METHOD, SKIP_STATUS, SKIP_BOT, SKIP_REQUEST, SKIP_SITE)


@dataclass
class ImportReport:
    """What an import read, stored and skipped, and why."""

    lines: int = 0
    blank: int = 0
    bad: int = 0
    bad_samples: list[tuple[str, int, str, str]] = field(default_factory=list)
    stored: int = 0  # events handed to the store
    new: int = 0  # of which it did not hold yet
    pageviews: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def already(self) -> int:
        """Events the store already held (an earlier import of the same lines)."""
        return self.stored - self.new


class _Pages:
    """Whether a path is a page: not a static asset or file by its extension.

    The extension test is one set lookup; the few patterns that are not
    `*.ext` (`/static/*`, `/favicon.ico`, ...) go through the middlewares'
    cached `PathFilter`.
    """

    def __init__(self) -> None:
        patterns = (*STATIC_PATTERNS, *NOT_PAGES)
        self.extensions = frozenset(
            p[2:] for p in patterns if p.startswith("*.") and "*" not in p[2:]
        )
        rest = [p for p in patterns if not (p.startswith("*.") and "*" not in p[2:])]
        self.others = PathFilter(exclude=rest, exclude_static=False)

    def __call__(self, path: str) -> bool:
        leaf = path.rpartition("/")[2]
        dot = leaf.rfind(".")
        if dot >= 0 and leaf[dot + 1 :].lower() in self.extensions:
            return False
        return self.others(path.lower())


class _SkipBots:
    """A chain step after the bot processor: drops bots (the importer counts them)."""

    def __call__(self, event: Event) -> Event | None:
        return None if event.is_bot else event

    def process_batch(self, events: list[Event]) -> list[Event]:
        return [e for e in events if not e.is_bot]

    def __repr__(self) -> str:
        return "SkipBots()"


def _site_of(host: str) -> str:
    """The site a virtual host names: lower case, without port or trailing dot.

    "" for what cannot be a domain (a scanner's `Host: ${jndi:...}`).
    """
    if host.startswith("["):
        return ""
    name = host.partition(":")[0].rstrip(".").lower()
    if not name or len(name) > 253 or not _DOMAIN.issuperset(name):
        return ""
    return name


_DOMAIN = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-_")


def _html(content_type: str) -> bool:
    return content_type.startswith(("text/html", "application/xhtml"))


class LogImporter:
    """Turns the lines of one or more logs into stored events; `report` counts.

    `feed(lines, label)` for each input in time order, then `flush()`.
    `secret` overrides the store's import secret (tests); without either
    (a store that keeps no processor state), ids are random per run and a
    re-import stores the lines again, which is logged.
    """

    def __init__(
        self,
        store: Store,
        fmt: LogFormat,
        *,
        site: str | None = None,
        keep_requests: bool = False,
        ip: IpMode = "drop",
        geoip_db: str | None = None,
        batch_size: int = BATCH_SIZE,
        secret: bytes | None = None,
        default_scheme: str = "https",
    ) -> None:
        self.store = store
        self.parse = fmt.parse
        self.site = normalize_domain(site) if site else ""
        self.keep_requests = keep_requests
        self.batch_size = max(1, batch_size)
        self.default_scheme = default_scheme
        if secret is None:
            secret = import_secret(store)
        if secret is None:
            log.warning(
                "footfall: %r keeps no processor state, so imported ids are random: "
                "importing the same lines again will store them again",
                store,
            )
            secret = secrets.token_bytes(32)
        self.ids = ImportIds(secret)
        self.chain = self._chain(ip, geoip_db)
        self.report = ImportReport()
        self._pages = _Pages()
        self._batch: list[Event] = []
        self._seen: dict[str, int] = {}  # line -> occurrences so far, within the window
        self._order: deque[tuple[int, str]] = deque()  # (second, line) of first occurrences
        self._newest = 0

    def _chain(self, ip: IpMode, geoip_db: str | None) -> list[Processor]:
        chain = default_processors(
            None,
            geoip_db=geoip_db,
            ip=ip,
            state=MemoryState(),
            salts=self.ids.day_salt,
            visit_ids=self.ids.visit_id,
        )
        if not self.keep_requests:
            at = next(i for i, p in enumerate(chain) if isinstance(p, BotProcessor))
            chain.insert(at + 1, _SkipBots())
        return chain

    # -- lines -> events -------------------------------------------------------
    def feed(self, lines: Iterable[str], label: str = "") -> None:
        """Import `lines` (without line ends); full batches are written as they fill."""
        report = self.report
        skipped = report.skipped
        parse = self.parse
        batch = self._batch
        for line in lines:
            report.lines += 1
            if not line or line.isspace():
                report.blank += 1
                continue
            if "\x00" in line:
                line = line.replace("\x00", "")
            try:
                req = parse(line)
            except BadLine as exc:
                report.bad += 1
                if len(report.bad_samples) < BAD_SAMPLES:
                    report.bad_samples.append((label, report.lines, exc.reason, line[:300]))
                continue
            event = self._event(line, req)
            if isinstance(event, str):
                skipped[event] += 1
                continue
            batch.append(event)
            if len(batch) >= self.batch_size:
                self._write()
                batch = self._batch

    def _event(self, line: str, req: Any) -> Event | str:
        """The event of one parsed line, or the reason it is skipped."""
        site = self.site or _site_of(req.host)
        if not site:
            return SKIP_SITE
        method = req.method
        if not method:
            return SKIP_REQUEST
        target = req.target
        if target[0] != "/":
            if "://" not in target:
                return SKIP_REQUEST  # `OPTIONS *`, `CONNECT host:443`
            parts = urlsplit(target)
            target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        raw_path = target.partition("?")[0]
        path = unquote(raw_path, errors="replace") if "%" in raw_path else raw_path
        status = req.status
        ctype = req.content_type
        page = (
            method == "GET"
            and (200 <= status < 300 or status == 304)
            and (not ctype or _html(ctype))
            and self._pages(path)
        )
        if not page and not self.keep_requests:
            if method != "GET":
                return SKIP_METHOD
            if not (200 <= status < 300 or status == 304):
                return SKIP_STATUS
            return SKIP_ASSET
        host = req.host or site
        ms = req.ms
        return Event(
            name="pageview" if page else "request",
            id=self.ids.event_id(site, line, self._occurrence(line, ms // 1000), ms),
            ts=req.ts,
            site=site[:MAX_SHORT],
            source="log",
            url=f"{req.scheme or self.default_scheme}://{host}{target}"[:MAX_URL],
            host=host[:MAX_SHORT],
            path=path[:MAX_SHORT],
            referrer=req.referrer[:MAX_REFERRER],
            method=method,
            status=status if 0 <= status <= 999 else 0,
            duration_ms=round(req.duration_ms, 3) if req.duration_ms > 0 else 0.0,
            bytes=req.nbytes if req.nbytes > 0 else 0,
            ip=req.ip[:MAX_SHORT],
            user_agent=req.user_agent[:MAX_URL],
            language=req.language[:MAX_SHORT],
        )

    def _occurrence(self, line: str, second: int) -> int:
        """How many identical lines came before this one (within `SAME_LINE_WINDOW`).

        Two requests can log the same line in the same second (a double
        click): they are two events, so the line alone cannot be the id.
        """
        seen = self._seen
        n = seen.get(line, 0)
        seen[line] = n + 1
        if n == 0:
            self._order.append((second, line))
            if second > self._newest:
                self._newest = second
                order = self._order
                horizon = second - SAME_LINE_WINDOW
                while order and order[0][0] < horizon:
                    seen.pop(order.popleft()[1], None)
        return n

    # -- events -> store -------------------------------------------------------
    def _write(self) -> None:
        batch, self._batch = self._batch, []
        if not batch:
            return
        events = run_chain(self.chain, batch)
        report = self.report
        if len(events) < len(batch):
            report.skipped[SKIP_BOT] += len(batch) - len(events)
        if events:
            report.new += self.store.write(events)
            report.stored += len(events)
            report.pageviews += sum(1 for e in events if e.name == "pageview")

    def flush(self) -> None:
        """Write what is batched (at the end of the input, or on a timer when following)."""
        self._write()

    @property
    def pending(self) -> int:
        """Events read but not written yet."""
        return len(self._batch)
