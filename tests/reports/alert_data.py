"""Events that make each kind of alert fire at `NOW` and recover at `LATER`.

One site per kind, so the kinds do not see each other's events:

- spike.test: 5 visitors in the minute before NOW (rule: above 3); none
  around LATER.
- drop.test: the hour before NOW's hour had 5 pageviews against 20 a week
  before (25 % < 50 %); the hour before LATER's hour has 20 against 20.
- errors.test: /api/a has 30 requests in NOW's 15 minutes, 6 of them 500s
  (20 % > 5 %); /api/b fails its 2 requests of 2 (below the 20-request
  minimum: never fires); /ok answers 200 only; in LATER's window /api/a
  answers 30 times 200.
- slow.test: /slow takes 1000 ms 25 times before NOW (p95 above 800), /fast
  50 ms; before LATER /slow takes 100 ms.

Bots and browser events without a status are mixed in where a query must
leave them out.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from footfall.event import Event

NOW = datetime(2026, 11, 9, 12, 30, tzinfo=timezone.utc)
LATER = NOW + timedelta(hours=1)  # every kind has recovered by then
SITES = ("spike.test", "drop.test", "errors.test", "slow.test")


def _pageview(site: str, ts: datetime, visitor: str, bot: bool = False) -> Event:
    return Event(
        name="pageview",
        ts=ts,
        site=site,
        source="browser",
        path="/",
        visitor_id=visitor,
        visit_id=f"{visitor}-visit",
        is_bot=bot,
    )


def _request(site: str, ts: datetime, path: str, status: int, duration: float) -> Event:
    return Event(
        name="request",
        ts=ts,
        site=site,
        source="server",
        path=path,
        method="GET",
        status=status,
        duration_ms=duration,
        visitor_id="server-visitor",
    )


def build() -> list[Event]:
    events: list[Event] = []
    # spike: 5 visitors now, 2 bots that must not count
    for i in range(5):
        events.append(_pageview("spike.test", NOW - timedelta(seconds=60 + i), f"spike-v{i}"))
    for i in range(2):
        events.append(_pageview("spike.test", NOW - timedelta(seconds=30), f"bot{i}", bot=True))
    # drop: the hour 11:00-12:00 against the same hour a week before; 12:00-13:00 even
    hour = NOW.replace(minute=0) - timedelta(hours=1)
    week = timedelta(days=7)
    for i in range(20):
        events.append(_pageview("drop.test", hour - week + timedelta(minutes=2 * i), f"d{i}"))
        events.append(_pageview("drop.test", hour - week + timedelta(minutes=60 + 2 * i), f"e{i}"))
        events.append(_pageview("drop.test", hour + timedelta(minutes=60 + 2 * i), f"f{i}"))
    for i in range(5):
        events.append(_pageview("drop.test", hour + timedelta(minutes=5 * i), f"g{i}"))
    for i in range(10):  # bots in the quiet hour do not hide the drop
        events.append(_pageview("drop.test", hour + timedelta(minutes=3), f"b{i}", bot=True))
    # errors: 6 of /api/a's 30 are 500s now; all 200 later
    for i in range(30):
        ts = NOW - timedelta(minutes=10, seconds=-i)
        events.append(_request("errors.test", ts, "/api/a", 500 if i < 6 else 200, 20.0))
        events.append(_request("errors.test", ts, "/ok", 200, 20.0))
        events.append(
            _request("errors.test", LATER - timedelta(minutes=5, seconds=-i), "/api/a", 200, 20.0)
        )
    for i in range(2):
        events.append(_request("errors.test", NOW - timedelta(minutes=1), "/api/b", 503, 5.0))
    for i in range(40):  # browser pageviews carry no status: never part of the share
        events.append(_pageview("errors.test", NOW - timedelta(minutes=2), f"err-v{i}"))
    # slow: /slow at 1000 ms now and 100 ms later; /fast at 50 ms
    for i in range(25):
        ts = NOW - timedelta(minutes=5, seconds=-i)
        events.append(_request("slow.test", ts, "/slow", 200, 1000.0 + i))
        events.append(_request("slow.test", ts, "/fast", 200, 50.0))
        events.append(
            _request("slow.test", LATER - timedelta(minutes=5, seconds=-i), "/slow", 200, 100.0)
        )
    return events
