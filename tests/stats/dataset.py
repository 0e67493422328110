"""A data set with known visits, and a plain-Python reference for every metric.

The reference (`Ref`) re-implements the documented semantics over the list
of events that were written, without SQL, so the engine's answers (raw SQL
and summaries) are checked against numbers computed independently.
"""

from __future__ import annotations

import math
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from footfall.event import Event

UTC_SITE = "utc.test"
TZ_SITE = "berlin.test"
TZ = "Europe/Berlin"
# Berlin leaves summer time on 2026-10-25 (03:00 CEST -> 02:00 CET).
START = date(2026, 10, 10)
DAYS = 30  # 2026-10-10 .. 2026-11-08
EMPTY_DAYS = {date(2026, 10, 14), date(2026, 10, 20), date(2026, 11, 2)}
NOW = datetime(2026, 11, 9, 12, 0, tzinfo=timezone.utc)

PAGES = ["/", "/pricing", "/blog", "/blog/a", "/blog/a/comments", "/docs/install", "/signup"]
SOURCES = [
    ("", "", ""),
    ("https://www.google.com/", "www.google.com", "Google"),
    ("https://news.ycombinator.com/", "news.ycombinator.com", "Hacker News"),
]
AGENTS = [
    ("Chrome", "130.0", "Windows", "10", "desktop"),
    ("Safari", "18.1", "iOS", "18.1", "mobile"),
    ("Firefox", "132.0", "Linux", "", "desktop"),
]
PLACES = [("DE", "Berlin", "Berlin"), ("US", "California", "San Francisco"), ("FR", "IDF", "Paris")]
# The visit's language and screen follow its place and device (no draw of their
# own, so the rest of the data set stays as it was); a few visits send neither.
LANGUAGES = {"DE": "de-DE", "US": "en-US", "FR": "fr-FR"}
SCREENS = {"desktop": "1920x1080", "mobile": "390x844"}


def build(seed: int = 7) -> list[Event]:
    """Visits over DAYS days for two sites, with bots, requests and custom events."""
    rng = random.Random(seed)
    events: list[Event] = []
    n = 0
    for site in (UTC_SITE, TZ_SITE):
        visitors = [f"{site[:3]}-v{i}" for i in range(60)]
        for day in range(DAYS):
            d = START + timedelta(days=day)
            if d in EMPTY_DAYS:
                continue
            for _ in range(rng.randint(3, 9)):
                n += 1
                visitor = rng.choice(visitors)
                # Around midnight often, so local and UTC days differ for Berlin.
                hour = rng.choice([0, 0.5, 1, 9, 13, 22.5, 23.5])
                ts = datetime(d.year, d.month, d.day, tzinfo=timezone.utc) + timedelta(hours=hour)
                ts += timedelta(seconds=rng.randint(0, 1700))
                ref, ref_host, source = rng.choice(SOURCES)
                browser, bver, os_, osver, device = rng.choice(AGENTS)
                country, region, city = rng.choice(PLACES)
                utm = rng.random() < 0.3
                common: dict[str, Any] = dict(
                    site=site,
                    source="browser",
                    visitor_id=visitor,
                    visit_id=f"{site}-visit{n}",
                    browser=browser,
                    browser_version=bver,
                    os=os_,
                    os_version=osver,
                    device=device,
                    country=country,
                    region=region,
                    city=city,
                    language=LANGUAGES[country] if n % 7 else "",
                    screen=SCREENS[device] if n % 11 else "",
                    user_id=f"user{n % 5}" if rng.random() < 0.2 else "",
                )
                n_pages = 1 if rng.random() < 0.45 else rng.randint(2, 5)
                for i in range(n_pages):
                    path = rng.choice(PAGES)
                    extra: dict[str, Any] = {}
                    if i == 0:
                        extra = dict(referrer=ref, referrer_host=ref_host, referrer_source=source)
                        if utm:
                            extra.update(
                                utm_source="newsletter",
                                utm_medium="email",
                                utm_campaign="launch",
                                utm_content="a",
                                utm_term="t",
                            )
                    events.append(
                        Event(
                            name="pageview",
                            ts=ts,
                            path=path,
                            host=site,
                            url=f"https://{site}{path}",
                            **extra,
                            **common,
                        )
                    )
                    if path == "/signup" and rng.random() < 0.6:
                        ts += timedelta(seconds=rng.randint(5, 60))
                        plan = rng.choice(["free", "pro"])
                        events.append(
                            Event(
                                name="Signup",
                                ts=ts,
                                path=path,
                                host=site,
                                props={"plan": plan},
                                **common,
                            )
                        )
                    ts += timedelta(seconds=rng.randint(10, 400))
                if n_pages == 1 and rng.random() < 0.15:  # one page + a custom event: no bounce
                    events.append(
                        Event(
                            name="Download",
                            ts=ts,
                            path="/docs/install",
                            host=site,
                            props={"file": "x.tgz"},
                            **common,
                        )
                    )
            for _ in range(rng.randint(0, 4)):  # server requests, no visit
                ts = datetime(d.year, d.month, d.day, tzinfo=timezone.utc) + timedelta(
                    seconds=rng.randint(0, 86_399)
                )
                status = rng.choice([200, 200, 200, 404, 500, 503])
                events.append(
                    Event(
                        name="request",
                        ts=ts,
                        source="server",
                        site=site,
                        path="/api/x",
                        host=site,
                        method="GET",
                        status=status,
                        duration_ms=float(rng.randint(1, 900)),
                        bytes=rng.randint(100, 5000),
                        visitor_id=rng.choice(visitors),
                    )
                )
            # a bot that must never be counted
            events.append(
                Event(
                    name="pageview",
                    ts=datetime(d.year, d.month, d.day, 12, tzinfo=timezone.utc),
                    site=site,
                    path="/",
                    host=site,
                    visitor_id="bot",
                    visit_id=f"bot-{site}-{day}",
                    is_bot=True,
                    browser="Googlebot",
                )
            )
    events.sort(key=lambda e: (e.ts, e.id))
    return events


# ---------------------------------------------------------------- reference
VISIT_FIRST = {
    "source": "referrer_source",
    "referrer": "referrer",
    "utm_medium": "utm_medium",
    "utm_source": "utm_source",
    "utm_campaign": "utm_campaign",
    "utm_content": "utm_content",
    "utm_term": "utm_term",
    "device": "device",
    "browser": "browser",
    "browser_version": "browser_version",
    "os": "os",
    "os_version": "os_version",
    "country": "country",
    "region": "region",
    "city": "city",
    "language": "language",
    "screen": "screen",
}


@dataclass
class V:
    id: str
    visitor: str
    start: datetime
    end: datetime
    pageviews: int
    events: int
    props: dict[str, str]


def rnd(x: float, digits: int = 0) -> float:
    scale = 10**digits
    return math.floor(x * scale + 0.5) / scale


def wild(pattern: str) -> re.Pattern[str]:
    out = []
    for i, part in enumerate(pattern.split("**")):
        if i:
            out.append(".*")
        out.append("[^/]*".join(re.escape(p) for p in part.split("*")))
    return re.compile("^" + "".join(out) + "$")


class Ref:
    """Expected answers computed in plain Python from the events written."""

    def __init__(self, events: list[Event], site: str, tz: str, first: date, last: date) -> None:
        self.tz = ZoneInfo(tz)
        self.all = [e for e in events if e.site == site and not e.is_bot]
        self.lo = datetime.combine(first, datetime.min.time(), self.tz).astimezone(timezone.utc)
        self.hi = datetime.combine(
            last + timedelta(days=1), datetime.min.time(), self.tz
        ).astimezone(timezone.utc)
        self.first, self.last = first, last
        by_visit: dict[str, list[Event]] = defaultdict(list)
        for e in self.all:
            if e.visit_id:
                by_visit[e.visit_id].append(e)
        self.visits: dict[str, V] = {}
        for vid, evs in by_visit.items():
            evs.sort(key=lambda e: (e.ts, e.id))
            pvs = [e for e in evs if e.name == "pageview"]
            props = {k: getattr(evs[0], col) for k, col in VISIT_FIRST.items()}
            props["entry_page"] = pvs[0].path if pvs else ""
            props["exit_page"] = pvs[-1].path if pvs else ""
            props["user_id"] = max(e.user_id for e in evs)
            self.visits[vid] = V(
                vid, evs[0].visitor_id, evs[0].ts, evs[-1].ts, len(pvs), len(evs), props
            )

    # -- helpers
    def in_range(self, e: Event) -> bool:
        return self.lo <= e.ts < self.hi

    @staticmethod
    def ev_value(e: Event, prop: str) -> str:
        if prop.startswith("event:props:"):
            v = e.props.get(prop[12:])
            return "" if v is None else str(v)
        return str(
            {
                "event:name": e.name,
                "event:page": e.path,
                "event:hostname": e.host,
                "event:status": e.status,
            }[prop]
        )

    def match(self, value: str, cond: tuple[str, str, list[str]], wildcard: bool) -> bool:
        _, op, values = cond
        if op in ("==", "!="):
            hit = any(
                (wild(v).match(value) is not None) if (wildcard and "*" in v) else value == v
                for v in values
            )
        else:
            hit = any(v in value for v in values)
        return not hit if op in ("!=", "!~") else hit

    def event_ok(self, e: Event, conds: list[tuple[str, str, list[str]]], goal: str | None) -> bool:
        for c in conds:
            if c[0].startswith("event:"):
                if not self.match(self.ev_value(e, c[0]), c, c[0] == "event:page"):
                    return False
        if goal is not None:
            if goal.startswith("Visit "):
                return e.name == "pageview" and wild(goal[6:]).match(e.path) is not None
            return e.name == goal
        return True

    def visit_ok(self, v: V, conds: list[tuple[str, str, list[str]]]) -> bool:
        for c in conds:
            if c[0].startswith("visit:"):
                key = c[0][6:]
                if not self.match(v.props[key], c, key in ("entry_page", "exit_page")):
                    return False
        return True

    # -- the query
    def parts(
        self,
        conds: list[tuple[str, str, list[str]]],
        goal: str | None,
        group: Any,
        prop: str | None,
        event_scope: bool = False,
    ) -> dict[str, dict[str, Any]]:
        """{group: {metric: value}} following the documented semantics."""
        has_e = any(c[0].startswith("event:") for c in conds) or goal is not None
        has_v = any(c[0].startswith("visit:") for c in conds)
        prop_visit = prop is not None and prop.startswith("visit:")
        from_visits = not event_scope and not has_e and (prop_visit or (prop is None and has_v))
        out: dict[str, dict[str, Any]] = defaultdict(lambda: defaultdict(float))
        evs = [e for e in self.all if self.in_range(e) and self.event_ok(e, conds, goal)]
        if has_v or prop_visit:
            evs = [
                e
                for e in evs
                if e.visit_id in self.visits and self.visit_ok(self.visits[e.visit_id], conds)
            ]
        matched_visits = {e.visit_id for e in evs}
        vis = [
            v
            for v in self.visits.values()
            if self.lo <= v.start < self.hi and self.visit_ok(v, conds)
        ]
        if has_e:
            vis = [v for v in vis if v.id in matched_visits]
        ev_groups: dict[str, list[Event]] = defaultdict(list)
        for e in evs:
            if prop_visit:
                key = self.visits[e.visit_id].props[prop[6:]]
            else:
                key = group(e.ts) if prop is None else self.ev_value(e, prop)
            ev_groups[key].append(e)
        for key, es in ev_groups.items():
            o = out[key]
            o["visitors"] = len({e.visitor_id for e in es if e.visitor_id})
            o["pageviews"] = sum(e.name == "pageview" for e in es)
            o["events"] = len(es)
            reqs = [e for e in es if e.name == "request"]
            o["requests"] = len(reqs)
            o["bytes"] = sum(e.bytes for e in es)
            o["errors"] = sum(e.status >= 500 for e in reqs)
            o["durations"] = sorted(e.duration_ms for e in reqs)
        v_groups: dict[str, list[V]] = defaultdict(list)
        if prop is not None and not prop_visit:
            pairs = {(e.visit_id, self.ev_value(e, prop)) for e in evs if e.visit_id}
            for vid, value in pairs:
                if self.visit_ok(self.visits[vid], conds):
                    v_groups[value].append(self.visits[vid])
        else:
            for v in vis:
                key = v.props[prop[6:]] if prop_visit else group(v.start)
                v_groups[key].append(v)
        for key, vs in v_groups.items():
            o = out[key]
            o["visits"] = len(vs)
            o["bounces"] = sum(v.pageviews == 1 and v.events == 1 for v in vs)
            o["duration"] = sum((v.end - v.start).total_seconds() for v in vs)
            o["v_pageviews"] = sum(v.pageviews for v in vs)
            o["v_events"] = sum(v.events for v in vs)
            o["v_visitors"] = len({v.visitor for v in vs if v.visitor})
        if from_visits:
            for o in out.values():
                o["visitors"] = o.get("v_visitors", 0)
                o["pageviews"] = o.get("v_pageviews", 0)
                o["events"] = o.get("v_events", 0)
        return out

    @staticmethod
    def metrics(o: dict[str, Any], metrics: list[str]) -> dict[str, Any]:
        res: dict[str, Any] = {}
        visits = o.get("visits", 0)
        for m in metrics:
            if m in ("visitors", "pageviews", "events", "visits", "requests", "bytes"):
                res[m] = int(o.get(m, 0))
            elif m == "bounce_rate":
                res[m] = int(rnd(100 * o["bounces"] / visits)) if visits else 0
            elif m == "visit_duration":
                res[m] = int(rnd(o["duration"] / visits)) if visits else 0
            elif m == "views_per_visit":
                res[m] = rnd(o["v_pageviews"] / visits, 2) if visits else 0.0
            elif m == "error_rate":
                res[m] = rnd(100 * o["errors"] / o["requests"], 1) if o.get("requests") else 0.0
            elif m in ("duration_p50", "duration_p95"):
                ds = o.get("durations") or []
                if not ds:
                    res[m] = None
                    continue
                p = 0.5 if m == "duration_p50" else 0.95
                pos = (len(ds) - 1) * p
                lo_i = int(pos)
                hi_i = min(lo_i + 1, len(ds) - 1)
                res[m] = rnd(ds[lo_i] + (ds[hi_i] - ds[lo_i]) * (pos - lo_i), 2)
        return res

    def local_day(self, ts: datetime) -> str:
        return ts.astimezone(self.tz).date().isoformat()
