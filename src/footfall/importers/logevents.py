"""A parsed log line -> the event it stands for, or the reason it is skipped.

What becomes what (docs/import-export.md says the same for users):

- a **page view** is a GET answered 2xx or 304, for a path that is not a
  static asset or a file by its extension (the middlewares' static patterns
  plus downloads, feeds and data files, `NOT_PAGES`) and, where the format
  logs the response's content type, whose type is HTML;
- everything else is a **request** (assets, other methods, redirects,
  errors): counted by reason and skipped, or, with `keep_requests`, stored
  as a `request` event like the middlewares store them.

Bots are told by the processors later (`blocks.py`). The site is `--site`,
else the line's virtual host.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from footfall.event import MAX_REFERRER, MAX_SHORT, MAX_URL, Event
from footfall.importers.ids import ImportIds
from footfall.importers.logline import Request
from footfall.integrations.request import STATIC_PATTERNS, PathFilter
from footfall.stores.meta import normalize_domain

__all__ = [
    "NOT_PAGES",
    "SKIPS",
    "SKIP_ASSET",
    "SKIP_BOT",
    "SKIP_METHOD",
    "SKIP_REQUEST",
    "SKIP_SITE",
    "SKIP_STATUS",
    "LineRules",
]

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
SKIP_ASSET = "asset or file, not a page"
SKIP_METHOD = "not a GET"
SKIP_STATUS = "status not 2xx/304"
SKIP_BOT = "bot"
SKIP_REQUEST = "unreadable request line"
SKIP_SITE = "no site (give --site)"
SKIPS = (SKIP_ASSET, SKIP_METHOD, SKIP_STATUS, SKIP_BOT, SKIP_REQUEST, SKIP_SITE)

_KNOWN_PATHS = 20_000  # paths whose verdict is remembered before starting over
_DOMAIN = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-_")


class _Pages:
    """Whether a path is a page: not a static asset or file by its extension.

    The extension test is one set lookup; the few patterns that are not
    `*.ext` (`/static/*`, `/favicon.ico`, ...) go through the middlewares'
    cached `PathFilter`.
    """

    def __init__(self) -> None:
        patterns = (*STATIC_PATTERNS, *NOT_PAGES)
        simple = [p for p in patterns if p.startswith("*.") and "*" not in p[2:]]
        self.extensions = frozenset(p[2:] for p in simple)
        rest = [p for p in patterns if p not in simple]
        self.others = PathFilter(exclude=rest, exclude_static=False)
        self._known: dict[str, bool] = {}  # a site has few paths; a log has them many times

    def __call__(self, path: str) -> bool:
        known = self._known.get(path)
        if known is not None:
            return known
        leaf = path.rpartition("/")[2]
        dot = leaf.rfind(".")
        page = not (dot >= 0 and leaf[dot + 1 :].lower() in self.extensions)
        page = page and self.others(path.lower())
        if len(self._known) >= _KNOWN_PATHS:
            self._known.clear()  # ids in paths must not grow memory
        self._known[path] = page
        return page


def site_of(host: str) -> str:
    """The site a virtual host names: lower case, without port or trailing dot.

    "" for what cannot be a domain (a scanner's `Host: ${jndi:...}`).
    """
    if host.startswith("["):
        return ""
    name = host.partition(":")[0].rstrip(".").lower()
    if not name or len(name) > 253 or not _DOMAIN.issuperset(name):
        return ""
    return name


def _html(content_type: str) -> bool:
    return content_type.startswith(("text/html", "application/xhtml"))


def _origin_form(target: str) -> str:
    """`/path?q` as it is; `http://host/path?q` (a proxy's request) as `/path?q`; else ""."""
    if target[0] == "/":
        return target
    if "://" not in target:
        return ""  # `OPTIONS *`, `CONNECT host:443`
    parts = urlsplit(target)
    return (parts.path or "/") + ("?" + parts.query if parts.query else "")


class LineRules:
    """Decides what a parsed line becomes and builds its event.

    `judge` decides from the few fields it needs, so a parser can stop
    there for the lines that are skipped (most of a log: assets); `event`
    builds the event of a kept line. Its id is the id of the first of
    identical lines (`ImportIds.event_id`); the importer renumbers repeats,
    which it alone sees in order.
    """

    def __init__(
        self,
        ids: ImportIds,
        *,
        site: str = "",
        keep_requests: bool = False,
        default_scheme: str = "https",
    ) -> None:
        self.ids = ids
        self.site = normalize_domain(site) if site else ""
        self.keep_requests = keep_requests
        self.default_scheme = default_scheme
        self._pages = _Pages()

    def judge(self, host: str, method: str, target: str, status: int, ctype: str) -> str | None:
        """Why a request is skipped, or None when it is stored."""
        if not self.site and not site_of(host):
            return SKIP_SITE
        if not method or not target:
            return SKIP_REQUEST
        if target[0] != "/":
            target = _origin_form(target)
            if not target:
                return SKIP_REQUEST
        if self.keep_requests:
            return None
        if method != "GET":
            return SKIP_METHOD
        if not (200 <= status < 300 or status == 304):
            return SKIP_STATUS
        if (ctype and not _html(ctype)) or not self._pages(target.partition("?")[0]):
            return SKIP_ASSET
        return None

    def event(self, line: str, req: Request) -> Event | str:
        """The event of one parsed line, or the reason it is skipped."""
        reason = self.judge(req.host, req.method, req.target, req.status, req.content_type)
        return reason if reason is not None else self.build(line, req)

    def build(self, line: str, req: Request) -> Event:
        """The event of a line `judge` keeps."""
        site = self.site or site_of(req.host)
        method, status = req.method, req.status
        target = _origin_form(req.target)
        raw_path = target.partition("?")[0]
        path = unquote(raw_path, errors="replace") if "%" in raw_path else raw_path
        ctype = req.content_type
        page = not self.keep_requests or (
            method == "GET"
            and (200 <= status < 300 or status == 304)
            and (not ctype or _html(ctype))
            and self._pages(raw_path)
        )
        host = req.host or site
        return Event(
            name="pageview" if page else "request",
            id=self.ids.event_id(site, line, req.ms),
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
