"""Per-event cost of the default processor chain, in the worker.

Batches of 1,000 realistic events (a few dozen distinct user agents, a few
hundred IPs and visitors, referrers, UTM URLs, raw Accept-Language headers)
go through `run_chain(default_processors(store), batch)` with shared state
in a real SQLite file: user agent, bots, geo (geoip2fast fallback), referrer,
UTM, language, cookieless visitor id, visits (one transaction per batch) and
privacy. "Warm" is the steady state (caches hold the site's UAs and IPs);
"cold" clears every cache first, so each distinct UA and IP is parsed once.

The peer is what the step that dominates a naive pipeline costs: parsing
every event's user agent with ua-parser's Rust resolver and no cache.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from footfall import Event, connect
from footfall.processors import run_chain
from footfall.processors.defaults import default_processors

BATCH = 1000

AGENTS = (
    [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{v}.0.0.0 Safari/537.36"
        for v in range(100, 125)
    ]
    + [
        f"Mozilla/5.0 (iPhone; CPU iPhone OS 17_{v} like Mac OS X) AppleWebKit/605.1.15 "
        f"(KHTML, like Gecko) Version/17.{v} Mobile/15E148 Safari/604.1"
        for v in range(6)
    ]
    + [
        f"Mozilla/5.0 (X11; Linux x86_64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0"
        for v in range(110, 122)
    ]
    + [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "curl/8.4.0",
    ]
)
REFERRERS = [
    "",
    "",
    "https://www.google.com/",
    "https://news.ycombinator.com/item?id=1",
    "https://t.co/x",
    "https://www.reddit.com/r/python/",
    "https://blog.example.org/post",
    "https://bench.example/other",
]


def _events(n: int, start: datetime, rng: random.Random) -> list[Event]:
    out = []
    for i in range(n):
        who = rng.randrange(300)
        out.append(
            Event(
                name="pageview",
                site="bench.example",
                source="server",
                ts=start + timedelta(seconds=i * 0.5),
                url=f"https://bench.example/p{i % 20}?utm_source=nl&utm_medium=email",
                referrer=rng.choice(REFERRERS),
                ip=f"81.2.{who % 250}.{who}",
                user_agent=AGENTS[who % len(AGENTS)],
                language="de-DE,de;q=0.9,en;q=0.8",
            )
        )
    return out


def _chain_cost(store: Any, batches: int, cold: bool, seed: int) -> float:
    rng = random.Random(seed)
    chain = default_processors(store)
    t = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
    samples = []
    for b in range(batches):
        events = _events(BATCH, t + timedelta(hours=b), rng)
        if cold:
            chain = default_processors(store)
            for proc in chain:
                cache = getattr(proc, "lookup", None) or getattr(proc, "check", None)
                if cache is not None:
                    cache.cache_clear()
        start = time.perf_counter()
        run_chain(chain, events)
        samples.append((time.perf_counter() - start) / BATCH * 1e6)
    return statistics.median(samples)


def _uncached_ua_cost(n: int) -> float:
    from footfall.processors.useragent import parse_agent

    parse_agent(AGENTS[0])  # build the resolver outside the timing
    samples = []
    for r in range(5):
        start = time.perf_counter()
        for i in range(n):
            parse_agent(AGENTS[(i + r) % len(AGENTS)])
        samples.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(samples)


def run(quick: bool) -> list[dict[str, Any]]:
    batches = 3 if quick else 11
    with tempfile.TemporaryDirectory() as tmp:
        store = connect(f"sqlite:///{Path(tmp) / 'bench.db'}")
        try:
            _chain_cost(store, 1, False, 0)  # load ua rules, geo data, referrer list
            warm = _chain_cost(store, batches, False, 1)
            cold = _chain_cost(store, max(2, batches // 3), True, 2)
        finally:
            store.close()
    peer = _uncached_ua_cost(500 if quick else 3000)
    return [
        {
            "benchmark": "processors: default chain per event, warm caches",
            "footfall": warm,
            "peer": "ua-parser (Rust) uncached, UA step alone",
            "peer_value": peer,
            "ratio": warm / peer,
            "unit": "us/event",
            "goal": "< 50 us/event in the worker",
        },
        {
            "benchmark": "processors: default chain per event, cold caches",
            "footfall": cold,
            "peer": "ua-parser (Rust) uncached, UA step alone",
            "peer_value": peer,
            "ratio": cold / peer,
            "unit": "us/event",
            "goal": "",
        },
    ]


if __name__ == "__main__":
    for row in run(quick=False):
        print(row)
