"""`footfall import log` beside GoAccess on the same generated combined log.

A realistic access log (bench/README.md "Access log import"): a week of a
content site's traffic in time order - visitors with browsers' user agents,
a few page views per visit from search, social and direct entries, internal
referrers after the first page, each first page pulling its CSS, JS, fonts
and images, 304s on revisits, old URLs redirecting, scanners probing for
WordPress, uptime checks with HEAD, and bots (search engines, SEO crawlers,
HTTP libraries) about a sixth of the lines; a few truncated lines.

Timed, each from the command line as a user runs it:

- `footfall import log FILE --site S --db sqlite:///... --no-fold` (parse,
  enrichment with the default processors, ids, SQLite writes) with the
  default `--workers`, then the same with `--workers 0` (one process), then
  the stats summaries folded on the first stats read, reported apart;
- `goaccess FILE --log-format=COMBINED -o out.json` (Debian's GoAccess, C).

Then footfall's page views per path (the stats API's `event:page`
breakdown) beside GoAccess's hits per request path for the same filter:
`--ignore-crawlers`, non-2xx/304 statuses ignored, GET only, query strings
dropped, and the file types footfall does not count as pages declared
static. Where they differ, and why, is in the README's section.

    python bench/run.py --only import [--quick]
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from footfall import connect, stats  # noqa: E402
from footfall.importers.logevents import NOT_PAGES  # noqa: E402
from footfall.importers.pool import default_workers  # noqa: E402
from footfall.integrations.request import STATIC_PATTERNS  # noqa: E402
from footfall.stats.summaries.catchup import catch_up  # noqa: E402

SITE = "shop.example"
START = datetime(2026, 11, 2, tzinfo=timezone(timedelta(hours=1)))  # a Monday, CET
DAYS = 7
FOOTFALL = str(Path(sys.executable).with_name("footfall"))

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{v}.0.0.0 Safari/537.36"
)
BROWSERS = (
    [CHROME.format(v=v) for v in range(118, 132)]
    + [
        f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
        f"Gecko) Version/17.{v} Safari/605.1.15"
        for v in range(6)
    ]
    + [
        f"Mozilla/5.0 (iPhone; CPU iPhone OS 17_{v} like Mac OS X) AppleWebKit/605.1.15 (KHTML,"
        f" like Gecko) Version/17.{v} Mobile/15E148 Safari/604.1"
        for v in range(6)
    ]
    + [
        f"Mozilla/5.0 (Linux; Android 14; Pixel {v}) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/131.0.0.0 Mobile Safari/537.36"
        for v in range(6, 10)
    ]
    + [
        f"Mozilla/5.0 (X11; Linux x86_64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0"
        for v in (128, 131)
    ]
    + [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
    ]
)
BOTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Mozilla/5.0 (compatible; DuckDuckBot-Https/1.1; https://duckduckgo.com/duckduckbot)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Twitterbot/1.0",
    "python-requests/2.31.0",
    "curl/8.5.0",
    "Go-http-client/1.1",
]
MONITOR = "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)"
ENTRIES = [
    ("-", 30),
    ("https://www.google.com/", 35),
    ("https://duckduckgo.com/", 5),
    ("https://www.bing.com/", 4),
    ("https://news.ycombinator.com/", 4),
    ("https://www.reddit.com/r/python/", 4),
    ("https://t.co/abc123", 3),
    ("https://www.facebook.com/", 3),
    ("https://github.com/example/project", 3),
    ("https://newsletter.example.net/issue/42", 2),
]
ASSETS = [
    "/static/css/main.css",
    "/static/js/app.js",
    "/static/js/vendor.js",
    "/static/fonts/inter.woff2",
    "/static/img/logo.svg",
    "/favicon.ico",
]
PAGES = (
    ["/", "/pricing", "/about", "/contact", "/blog/", "/docs/", "/products/"]
    + [f"/blog/{y}/post-{i}" for y in (2024, 2025, 2026) for i in range(40)]
    + [f"/docs/{s}/page-{i}" for s in ("start", "api", "guides") for i in range(25)]
    + [f"/products/item-{i}" for i in range(60)]
)
FILES = ["/feed.xml", "/sitemap.xml", "/robots.txt", "/downloads/catalogue.pdf"]
SCANS = ["/wp-login.php", "/.env", "/xmlrpc.php", "/wp-admin/", "/.git/config", "/admin.php"]
OLD = [f"/old/{i}" for i in range(20)]  # redirect (301)
# The statuses GoAccess is told to ignore: everything but 2xx and 304 in this log.
IGNORED_STATUSES = (301, 302, 404, 500)


def _weights(n: int) -> list[float]:
    return [1.0 / (i + 1) ** 0.9 for i in range(n)]  # Zipf-like popularity


_HOURS = [0.3, 0.2, 0.15, 0.1, 0.1, 0.15, 0.3, 0.6, 0.9, 1.0, 1.0, 1.0]
_HOURS += [0.95, 1.0, 1.0, 0.95, 0.9, 0.9, 0.85, 0.8, 0.75, 0.7, 0.55, 0.4]


def write_log(path: Path, lines: int, seed: int = 7) -> dict[str, int]:
    """Write about `lines` lines in time order; return how many of each kind."""
    rng = random.Random(seed)
    page_w = _weights(len(PAGES))
    entry_urls = [e for e, _ in ENTRIES]
    entry_w = [w for _, w in ENTRIES]
    hours = list(range(24))
    kinds: Counter[str] = Counter()
    rows: list[tuple[float, str]] = []
    visitors = max(100, lines // 14)
    seen_assets: set[int] = set()

    def emit(ts: float, ip: str, method: str, target: str, status: int, size: int, ref: str,
             ua: str, kind: str) -> None:  # fmt: skip
        stamp = (START + timedelta(seconds=ts)).strftime("%d/%b/%Y:%H:%M:%S %z")
        line = f'{ip} - - [{stamp}] "{method} {target} HTTP/1.1" {status} {size} "{ref}" "{ua}"\n'
        rows.append((ts, line))
        kinds[kind] += 1

    def ip_of(v: int) -> str:
        return f"{(v * 7919) % 223 + 1}.{(v * 104729) % 256}.{(v * 31) % 256}.{v % 254 + 1}"

    while len(rows) < lines:
        t = rng.randrange(DAYS) * 86_400 + rng.choices(hours, _HOURS)[0] * 3_600
        t += rng.uniform(0, 3_600)
        roll = rng.random()
        if roll < 0.25:  # a bot walks pages, files and old links
            ua = rng.choice(BOTS)
            ip = f"66.249.{rng.randrange(64, 96)}.{rng.randrange(1, 255)}"
            for _ in range(rng.randint(1, 6)):
                kind = rng.random()
                if kind < 0.7:
                    target = rng.choices(PAGES, page_w)[0]
                else:
                    target = rng.choice(FILES) if kind < 0.9 else rng.choice(OLD)
                status = 301 if target.startswith("/old/") else 200
                emit(t, ip, "GET", target, status, rng.randrange(500, 90_000), "-", ua, "bot")
                t += rng.uniform(0.5, 20)
        elif roll < 0.265:  # a scanner
            ip = f"45.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            for target in rng.sample(SCANS, 3):
                method = rng.choice(["GET", "POST"])
                emit(t, ip, method, target, 404, 153, "-", CHROME.format(v=99), "scanner")
        elif roll < 0.27:  # an uptime check
            emit(t, "216.144.250.150", "HEAD", "/", 200, 0, "-", MONITOR, "monitor")
        else:
            _visit(rng, emit, t, rng.randrange(visitors), ip_of, seen_assets, page_w,
                   rng.choices(entry_urls, entry_w)[0])  # fmt: skip
    rows.sort(key=lambda row: row[0])  # a log is written in time order
    with path.open("w", encoding="utf-8") as f:
        for i, (_, line) in enumerate(rows):
            if i % 5_000 == 4_999:  # a line cut short by a crash
                line = line[: len(line) // 2] + "\n"
                kinds["truncated"] += 1
            f.write(line)
    kinds["lines"] = len(rows)
    return dict(kinds)


def _visit(rng: random.Random, emit: Any, t: float, v: int, ip_of: Any, seen_assets: set[int],
           page_w: list[float], ref: str) -> None:  # fmt: skip
    """One person's visit: a few pages, the first one's assets, maybe a form post."""
    ip, ua = ip_of(v), BROWSERS[v % len(BROWSERS)]
    for n in range(rng.choices((1, 2, 3, 4, 6, 9), (35, 25, 15, 12, 8, 5))[0]):
        page = rng.choices(PAGES, page_w)[0]
        if n == 0 and rng.random() < 0.15:
            page += f"?utm_source=newsletter&utm_medium=email&utm_campaign=w{rng.randrange(9)}"
        old = rng.random() < 0.01
        target = rng.choice(OLD) if old else page
        status = 301 if old else (304 if rng.random() < 0.05 else 200)
        if not old and rng.random() < 0.002:
            status = 500
        size = rng.randrange(2_000, 60_000)
        kind = "page" if status in (200, 304) else "other"
        emit(t, ip, "GET", target, status, size, ref, ua, kind)
        here = f"https://{SITE}{page}"
        if not old and status == 200 and v not in seen_assets:
            seen_assets.add(v)
            for asset in ASSETS:
                emit(t + 0.2, ip, "GET", asset, 200, rng.randrange(300, 90_000), here, ua, "asset")
        elif not old and rng.random() < 0.3:
            for asset in ASSETS[:3]:
                emit(t + 0.2, ip, "GET", asset, 304, 0, here, ua, "asset")
        if rng.random() < 0.02:
            emit(t + 1, ip, "POST", "/api/subscribe", 201, 12, here, ua, "other")
        ref = here
        t += rng.expovariate(1 / 40.0)


def _cpu() -> float:
    """CPU seconds of every finished child process (their own children included)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(command: list[str]) -> tuple[float, float, str]:
    """Run `command`: (wall seconds, CPU seconds of it and its workers, stdout)."""
    cpu, started = _cpu(), time.perf_counter()
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return time.perf_counter() - started, _cpu() - cpu, done.stdout


def _goaccess(log: Path, out: Path, *extra: str) -> tuple[float, float]:
    """(wall, CPU) seconds GoAccess takes to parse `log` and write its JSON report."""
    command = ["goaccess", str(log), "--log-format=COMBINED", "--no-global-config"]
    wall, cpu, _ = _timed([*command, "-o", str(out), *extra])
    return wall, cpu


def _goaccess_pages(report: Path) -> Counter[str]:
    """GoAccess's hits per request path, GET only (its requests panel keys method + path)."""
    hits: Counter[str] = Counter()
    for item in json.loads(report.read_text())["requests"]["data"]:
        if item.get("method", "GET") == "GET":
            hits[item["data"]] += int(item["hits"]["count"])
    return hits


def _goaccess_bots_as_people(report: Path) -> int:
    """Hits GoAccess kept as people's although a bot of this log sent them."""
    kept = 0
    for family in json.loads(report.read_text())["browsers"]["data"]:
        for item in family.get("items", []):
            if any(item["data"] in bot for bot in BOTS):
                kept += int(item["hits"]["count"])
    return kept


def _footfall_pages(db: str) -> Counter[str]:
    """footfall's page views per path, from the stats API's `event:page` breakdown."""
    store = connect(db)
    try:
        first, last = START - timedelta(days=1), START + timedelta(days=DAYS + 1)
        rows = stats.query(
            store, SITE, kind="breakdown", property="event:page", metrics="pageviews",
            period="custom", date=f"{first:%Y-%m-%d},{last:%Y-%m-%d}", limit=1000,
        )  # fmt: skip
        return Counter({row["page"]: int(row["pageviews"]) for row in rows})
    finally:
        store.close()


def run(quick: bool) -> list[dict[str, Any]]:
    lines = 100_000 if quick else 1_000_000
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        log = folder / "access.log"
        kinds = write_log(log, lines)
        n = kinds["lines"]
        db = f"sqlite:///{folder / 'footfall.db'}"
        command = [FOOTFALL, "import", "log", str(log), "--site", SITE, "--db", db]
        load = os.getloadavg()[0]
        took, cpu, out = _timed([*command, "--no-fold", "--quiet"])
        print(out, file=sys.stderr)
        # The same import in one process, into a store of its own: what parallelism adds.
        alone = [*command[:-1], f"sqlite:///{folder / 'one-process.db'}", "--workers", "0"]
        one_took, one_cpu, _ = _timed([*alone, "--no-fold", "--quiet"])
        store = connect(db)
        started = time.perf_counter()
        folded = catch_up(store)
        fold_took = time.perf_counter() - started
        store.close()
        row: dict[str, Any] = {
            "benchmark": f"import {n:,}-line combined log into SQLite (parse, enrich, store), "
            f"default --workers ({default_workers()})",
            "footfall": round(n / took),
            "unit": "lines/s",
            "goal": ">= 100,000",
        }
        have_goaccess = shutil.which("goaccess") is not None
        ga_took = ga_cpu = 0.0
        if have_goaccess:
            ga_took, ga_cpu = _goaccess(log, folder / "goaccess.json")
            row.update(peer="GoAccess 1.7 -o json", peer_value=round(n / ga_took),
                       ratio=round(ga_took / took, 2))  # fmt: skip
        rows.append(row)
        peer = "GoAccess" if have_goaccess else ""
        rows.append({"benchmark": "  same, wall time", "footfall": round(took, 2), "peer": peer,
                     "peer_value": round(ga_took, 2) if have_goaccess else None, "unit": "s",
                     "goal": f"load {load:.1f} on {os.cpu_count()} CPUs at start"})  # fmt: skip
        one = f"  same, one process (--workers 0; the default here is {default_workers()})"
        rows.append({"benchmark": one,
                     "footfall": round(n / one_took), "peer": peer,
                     "peer_value": round(n / ga_took) if have_goaccess else None,
                     "ratio": round(ga_took / one_took, 2) if have_goaccess else None,
                     "unit": "lines/s",
                     "goal": f"{one_cpu / n * 1e6:.1f} us CPU per line"})  # fmt: skip
        rows.append({"benchmark": "  same, CPU time per line (all processes)",
                     "footfall": round(cpu / n * 1e6, 1), "peer": peer,
                     "peer_value": round(ga_cpu / n * 1e6, 1) if have_goaccess else None,
                     "unit": "us/line"})  # fmt: skip
        rows.append({"benchmark": "  stats summaries folded after the import (first read)",
                     "footfall": round(folded / fold_took) if fold_took else 0,
                     "unit": "events/s", "goal": f"{folded:,} page views"})  # fmt: skip
        if not have_goaccess:
            return rows
        # The same filter on both sides: people's GET page views, 2xx/304, no query string.
        extensions = sorted({p[1:] for p in (*STATIC_PATTERNS, *NOT_PAGES) if p.startswith("*.")})
        same_filter = [
            "--ignore-crawlers", "--no-query-string", "--http-method=yes", "--max-items=100000",
            "--ignore-statics=panel", *[f"--ignore-status={s}" for s in IGNORED_STATUSES],
            *[f"--static-file={e}" for e in extensions],
        ]  # fmt: skip
        crawlers, unknowns = folder / "crawlers.json", folder / "unknowns.json"
        _goaccess(log, crawlers, *same_filter)
        # GoAccess files HTTP libraries under "Others" browsers, not crawlers; with
        # --unknowns-as-crawlers it leaves them out too, as footfall's bot filter does.
        _goaccess(log, unknowns, *same_filter, "--unknowns-as-crawlers")
        ours = _footfall_pages(db)
        theirs_a, theirs = _goaccess_pages(crawlers), _goaccess_pages(unknowns)
        total, total_a, total_b = sum(ours.values()), sum(theirs_a.values()), sum(theirs.values())
        libraries = _goaccess_bots_as_people(crawlers)
        label = "  page views vs GoAccess GET hits, same filter, --ignore-crawlers"
        rows.append({"benchmark": label,
                     "footfall": total, "peer": "GoAccess", "peer_value": total_a,
                     "ratio": round(total / max(1, total_a), 3), "unit": "page views"})  # fmt: skip
        rows.append({"benchmark": "    of the difference: HTTP libraries, not crawlers to GoAccess",
                     "peer_value": libraries, "unit": "page views",
                     "goal": "curl, python-requests, Go-http-client"})  # fmt: skip
        rows.append({"benchmark": "  same, GoAccess also --unknowns-as-crawlers",
                     "footfall": total, "peer": "GoAccess", "peer_value": total_b,
                     "ratio": round(total / max(1, total_b), 4), "unit": "page views",
                     "goal": f"extra: of {kinds['truncated']} lines cut short"})  # fmt: skip
        paths = set(ours) | set(theirs)
        same = sum(1 for p in paths if ours[p] == theirs[p])
        rows.append({"benchmark": "    paths whose counts are equal", "footfall": same,
                     "peer_value": len(paths), "unit": "paths"})  # fmt: skip
        print(_table(ours, theirs), file=sys.stderr)
        print(f"generated: {kinds}", file=sys.stderr)
    return rows


def _table(ours: Counter[str], theirs: Counter[str], top: int = 12) -> str:
    """The busiest paths side by side, then every path whose counts differ."""
    out = ["| path | footfall page views | GoAccess GET hits | difference |", "|---|---|---|---|"]
    busiest = [p for p, _ in (ours + theirs).most_common(top)]
    differ = sorted(p for p in set(ours) | set(theirs) if ours[p] != theirs[p] and p not in busiest)
    for p in busiest + differ:
        out.append(f"| {p} | {ours[p]:,} | {theirs[p]:,} | {ours[p] - theirs[p]:+,} |")
    out.append(f"| (all paths) | {sum(ours.values()):,} | {sum(theirs.values()):,} | "
               f"{sum(ours.values()) - sum(theirs.values()):+,} |")  # fmt: skip
    return "\n".join(out)
