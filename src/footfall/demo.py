"""Realistic sample data for `footfall demo` and `make run`.

Visitors arrive from search engines, social sites and campaigns, browse a
few pages, sometimes sign up through pricing, and the API behind the shop
answers requests with real-looking statuses and latencies. Everything is
drawn from one seeded `random.Random`, ids included, so a seed always gives
the same data.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from footfall.demo_sites import register_demo_sites
from footfall.event import Event
from footfall.stores.base import Store

__all__ = ["DEMO_SITES", "generate", "generate_into"]

DEMO_SITES = ("demo.footfall.dev", "shop.example.com", "api.example.com")

_PAGES = [
    ("/", 30),
    ("/pricing", 12),
    ("/features", 10),
    ("/blog", 8),
    ("/blog/self-hosted-analytics", 6),
    ("/blog/cookieless-tracking", 5),
    ("/docs", 8),
    ("/docs/install", 6),
    ("/docs/api", 4),
    ("/about", 3),
    ("/contact", 2),
    ("/signup", 4),
]
_SHOP_PAGES = [
    ("/", 30),
    ("/products", 15),
    ("/products/red-shoes", 8),
    ("/products/blue-hat", 6),
    ("/cart", 6),
    ("/checkout", 3),
    ("/account", 2),
]
_SOURCES = [  # (referrer url, source name, weight)
    ("", "", 35),
    ("https://www.google.com/", "Google", 30),
    ("https://www.bing.com/", "Bing", 4),
    ("https://duckduckgo.com/", "DuckDuckGo", 4),
    ("https://news.ycombinator.com/item?id=4242", "Hacker News", 6),
    ("https://www.reddit.com/r/python/", "Reddit", 5),
    ("https://t.co/abc", "Twitter", 4),
    ("https://github.com/footfall/footfall", "GitHub", 5),
    ("https://blog.example.org/python-analytics", "", 3),
]
_CAMPAIGNS = [
    ("newsletter", "email", "november"),
    ("twitter", "social", "launch"),
    ("google", "cpc", "brand"),
]
_AGENTS = [  # browser, version, os, os_version, device, user agent, weight
    (
        "Chrome",
        "130.0",
        "Windows",
        "10",
        "desktop",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/130.0.0.0 Safari/537.36",
        30,
    ),
    (
        "Safari",
        "18.1",
        "iOS",
        "18.1",
        "mobile",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        20,
    ),
    (
        "Chrome Mobile",
        "130.0",
        "Android",
        "14",
        "mobile",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/130.0.0.0 Mobile Safari/537.36",
        15,
    ),
    (
        "Firefox",
        "132.0",
        "Linux",
        "",
        "desktop",
        "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
        10,
    ),
    (
        "Safari",
        "18.1",
        "Mac OS X",
        "10.15",
        "desktop",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
        "Gecko) Version/18.1 Safari/605.1.15",
        12,
    ),
    (
        "Edge",
        "130.0",
        "Windows",
        "11",
        "desktop",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
        7,
    ),
    (
        "Mobile Safari",
        "17.6",
        "iOS",
        "17.6",
        "tablet",
        "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
        "Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
        6,
    ),
]
_PLACES = [  # country, region, city, language, weight
    ("US", "California", "San Francisco", "en-US", 20),
    ("US", "New York", "New York", "en-US", 12),
    ("DE", "Berlin", "Berlin", "de-DE", 10),
    ("GB", "England", "London", "en-GB", 10),
    ("FR", "Ile-de-France", "Paris", "fr-FR", 7),
    ("IN", "Karnataka", "Bengaluru", "en-IN", 8),
    ("BR", "Sao Paulo", "Sao Paulo", "pt-BR", 6),
    ("JP", "Tokyo", "Tokyo", "ja-JP", 5),
    ("NL", "North Holland", "Amsterdam", "nl-NL", 5),
    ("CA", "Ontario", "Toronto", "en-CA", 5),
    ("AU", "New South Wales", "Sydney", "en-AU", 4),
    ("PL", "Mazovia", "Warsaw", "pl-PL", 3),
]
_API = [  # method, path, weight, median ms
    ("GET", "/api/products", 40, 18.0),
    ("GET", "/api/products/{id}", 25, 9.0),
    ("POST", "/api/cart", 12, 35.0),
    ("POST", "/api/checkout", 4, 240.0),
    ("GET", "/api/search", 15, 80.0),
    ("GET", "/api/account", 4, 22.0),
]


def _pick(rng: random.Random, items: list[tuple]) -> tuple:  # type: ignore[type-arg]
    return rng.choices(items, weights=[i[-1] for i in items])[0]


MAX_PAUSE_S = 25 * 60  # longest pause between two events of a demo visit


def _uuid7(rng: random.Random, ts: datetime, after: str = "") -> str:
    """A UUIDv7 for `ts`, sorting after `after` (the visit's previous id) if one is given.

    Visits order their events by (ts, id), and a real client's ids (`new_id`) grow
    within a millisecond; random ones would put an event emitted at its page view's
    ts before the page view, so the visit's source would come from the event, and a
    catch-up folding the page view alone would file the visitor under a source the
    visit later loses (sketches cannot forget).
    """
    ms = int(ts.timestamp() * 1000)
    rand = rng.getrandbits(74)
    value = (
        (ms << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & ((1 << 62) - 1))
    )
    floor = uuid.UUID(after).int if after else 0
    if value <= floor:  # the same millisecond: the next id, as a monotonic generator gives
        value = floor + 1
    return str(uuid.UUID(int=value))


def _daily_visits(day: int, days: int, base: float, rng: random.Random, start: datetime) -> int:
    weekday = (start + timedelta(days=day)).weekday()
    weekly = 0.65 if weekday >= 5 else 1.0
    growth = 0.6 + 0.8 * day / max(days, 1)
    spike = 2.5 if rng.random() < 0.03 else 1.0  # a Hacker News day
    return max(1, int(base * weekly * growth * spike * rng.uniform(0.85, 1.15)))


def _visit(
    rng: random.Random, site: str, pages: list[tuple[str, int]], ts: datetime, visitor: str
) -> Iterator[Event]:
    browser, bver, os_name, os_ver, device, ua, _ = _pick(rng, _AGENTS)
    country, region, city, lang, _ = _pick(rng, _PLACES)
    ref, source, _ = _pick(rng, _SOURCES)
    utm: dict[str, Any] = {}
    if rng.random() < 0.12:
        src, medium, campaign = rng.choice(_CAMPAIGNS)
        utm = {"utm_source": src, "utm_medium": medium, "utm_campaign": campaign}
        source = source or src.capitalize()
    visit_id = _uuid7(rng, ts)[:18]
    common: dict[str, Any] = dict(
        site=site,
        source="browser",
        visitor_id=visitor,
        visit_id=visit_id,
        browser=browser,
        browser_version=bver,
        os=os_name,
        os_version=os_ver,
        device=device,
        user_agent=ua,
        country=country,
        region=region,
        city=city,
        language=lang,
        screen=rng.choice(["1920x1080", "1440x900", "390x844", "2560x1440", "820x1180"]),
    )
    funnel = site == "demo.footfall.dev" and rng.random() < 0.18
    n_pages = 1 if rng.random() < 0.42 else min(12, 1 + int(rng.expovariate(0.45)))
    path = (
        rng.choice(["/", "/pricing", "/blog/self-hosted-analytics"])
        if funnel
        else (_pick(rng, pages)[0])
    )
    steps = ["/", "/pricing", "/signup"] if funnel else []
    first = True
    last = ""  # the visit's previous id: each next one sorts after it
    for i in range(max(n_pages, len(steps))):
        if steps:
            path = steps[i] if i < len(steps) else _pick(rng, pages)[0]
        elif i:
            path = _pick(rng, pages)[0]
        yield Event(
            name="pageview",
            id=(last := _uuid7(rng, ts, last)),
            ts=ts,
            url=f"https://{site}{path}",
            host=site,
            path=path,
            title=path.strip("/").replace("-", " ").title() or "Home",
            referrer=ref if first else "",
            referrer_host=ref.split("/")[2] if ref and first else "",
            referrer_source=source if first else "",
            **(utm if first else {}),
            **common,
        )
        first = False
        if path == "/signup" and rng.random() < 0.55:
            ts += timedelta(seconds=rng.uniform(20, 120))
            plan = rng.choice(["free", "free", "pro", "team"])
            yield Event(
                name="Signup",
                id=(last := _uuid7(rng, ts, last)),
                ts=ts,
                url=f"https://{site}/signup",
                host=site,
                path="/signup",
                props={"plan": plan},
                **common,
            )
            break
        if path.startswith("/docs") and rng.random() < 0.1:
            yield Event(
                name="Download",
                id=(last := _uuid7(rng, ts, last)),
                ts=ts,
                url=f"https://{site}{path}",
                host=site,
                path=path,
                props={"file": "footfall-0.1.0.tar.gz"},
                **common,
            )
        # Under the 30-minute visit timeout: a longer pause would end the visit
        # (the visits processor would start a new one), and a visit that closed
        # and then grew would leave its visitor under its first exit page.
        ts += timedelta(seconds=min(rng.lognormvariate(3.6, 1.0), MAX_PAUSE_S))


def _api_request(rng: random.Random, ts: datetime) -> Event:
    method, path, _, median = _pick(rng, _API)
    roll = rng.random()
    status = 500 if roll < 0.01 else 404 if roll < 0.04 else 201 if method == "POST" else 200
    duration = median * rng.lognormvariate(0, 0.6) * (4 if status == 500 else 1)
    country, region, city, lang, _ = _pick(rng, _PLACES)
    concrete = path.replace("{id}", str(rng.randint(1, 500)))
    return Event(
        name="request",
        id=_uuid7(rng, ts),
        ts=ts,
        site="api.example.com",
        source="server",
        url=f"https://api.example.com{concrete}",
        host="api.example.com",
        path=concrete,
        method=method,
        status=status,
        duration_ms=round(duration, 2),
        bytes=rng.randint(200, 40_000) if status < 400 else 120,
        visitor_id=f"v{rng.randint(1, 4000):05d}",
        country=country,
        region=region,
        city=city,
        language=lang,
        props={"route": path},
    )


def generate(
    *, days: int = 90, seed: int = 42, scale: float = 1.0, now: datetime | None = None
) -> Iterator[list[Event]]:
    """Yield one day of events at a time, oldest day first, ending today."""
    rng = random.Random(seed)
    end = (now or datetime.now(timezone.utc)).replace(minute=0, second=0, microsecond=0)
    start = (end - timedelta(days=days)).replace(hour=0)
    site_plan = [("demo.footfall.dev", _PAGES, 260.0), ("shop.example.com", _SHOP_PAGES, 90.0)]
    returning: dict[str, list[str]] = {site: [] for site, _, _ in site_plan}
    for day in range(days + 1):
        batch: list[Event] = []
        day_start = start + timedelta(days=day)
        for site, pages, base in site_plan:
            for _ in range(_daily_visits(day, days, base * scale, rng, start)):
                # Visits follow the sun: most in the (European/US) afternoon.
                hour = min(23.99, max(0.0, rng.gauss(15, 4.5)))
                ts = day_start + timedelta(hours=hour, seconds=rng.uniform(0, 60))
                if ts > end:
                    continue
                pool = returning[site]
                if pool and rng.random() < 0.3:
                    visitor = rng.choice(pool)
                else:
                    visitor = f"{rng.getrandbits(64):016x}"
                    pool.append(visitor)
                    if len(pool) > 2000:
                        pool.pop(0)
                batch.extend(ev for ev in _visit(rng, site, pages, ts, visitor) if ev.ts <= end)
        n_api = int(1200 * scale * (0.7 + 0.6 * math.sin(day / 7)))
        for _ in range(max(1, n_api)):
            ts = day_start + timedelta(seconds=rng.uniform(0, 86_400))
            if ts <= end:
                batch.append(_api_request(rng, ts))
        yield batch


def generate_into(
    store: Store, *, days: int = 90, seed: int = 42, scale: float = 1.0, progress: bool = True
) -> int:
    """Write demo data straight to `store`; return the number of events."""
    from rich.progress import Progress

    total = 0
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("generating demo data", total=days + 1)
        for batch in generate(days=days, seed=seed, scale=scale):
            store.write(batch)
            total += len(batch)
            bar.advance(task)
    register_demo_sites(store)
    return total
