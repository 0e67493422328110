"""Email reports: a site's weekly report made from a 1M-event store and sent over SMTP.

The goal is a weekly report rendered and sent in <= 2 s. A SQLite file of
demo events (365 days at scale 1.75, ~1M events over three sites; --quick: 30
days, ~55k) is made once and cached in the system temp folder; its summaries
are brought up to date once before timing, as `footfall serve` keeps them.
A real SMTP server (aiosmtpd) listens on loopback in this process.

Rows, median of N runs each, side by side:

- `render + send`: what the schedule does for one recipient: ask the stats
  engine for the numbers, render both parts, hand the message to the SMTP
  server (`send.send_to`), against `render only` (the same without SMTP);
- the monthly report the same way;
- a schedule tick with nothing due (every recipient already sent), which
  `footfall serve` runs every minute, against one stats API aggregate query
  of the same site, as a yardstick for "one small query".

    .venv/bin/python bench/run.py --only reports [--quick]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.reports.mailserver import mail_server

SITE = "demo.footfall.dev"
RECIPIENT = "owner@example.com"


def _dataset(days: int, scale: float) -> tuple[str, int]:
    from footfall import connect
    from footfall.demo import generate_into

    path = Path(tempfile.gettempdir()) / f"footfall-bench-reports-{days}d-x{scale:g}.db"
    url = f"sqlite:///{path}"
    store = connect(url)
    try:
        n = store.count()
        if n == 0:
            n = generate_into(store, days=days, seed=1, scale=scale, progress=False)
    finally:
        store.close()
    return url, n


def _median_ms(fn: Callable[[], Any], runs: int) -> float:
    return _medians_ms([fn], runs)[0]


def _medians_ms(fns: list[Callable[[], Any]], runs: int) -> list[float]:
    """Median ms of each function, run in turns so that load on the machine hits all alike."""
    for fn in fns:
        fn()  # warm: templates compiled, caches filled, summaries current
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(runs):
        for fn, took in zip(fns, times, strict=True):
            started = time.perf_counter()
            fn()
            took.append((time.perf_counter() - started) * 1000)
    return [statistics.median(t) for t in times]


def run(quick: bool) -> list[dict[str, Any]]:
    from footfall import connect
    from footfall.reports.content import build_report, last_complete
    from footfall.reports.render import render
    from footfall.reports.send import send_report, send_to
    from footfall.stats import make_query
    from footfall.stats.engine import aggregate
    from footfall.stores.meta import open_meta

    days, scale, runs = (30, 1.0, 5) if quick else (365, 1.75, 21)
    url, n = _dataset(days, scale)
    store = connect(url)
    [(site_events,)] = store.query("SELECT count(*) FROM events WHERE site = ?", (SITE,))
    rows: list[dict[str, Any]] = []
    try:
        with mail_server() as server:
            smtp = server.url(query="from=reports@example.com")
            for kind in ("week", "month"):
                period = last_complete(kind, "UTC")

                def made(period: Any = period) -> Any:
                    report = build_report(store, SITE, period)
                    return render(report, RECIPIENT, "t" * 32)

                def sent(period: Any = period) -> None:
                    send_to(build_report(store, SITE, period), RECIPIENT, smtp, "t" * 32)

                alone, both = _medians_ms([made, sent], runs)
                rows.append(
                    {
                        "benchmark": f"{kind}ly report of one site, rendered and sent over SMTP"
                        f" (sqlite, {n:,} events, {site_events:,} of them the site's)",
                        "footfall": both,
                        "peer": "numbers and templates only (no MIME, no SMTP)",
                        "peer_value": alone,
                        "ratio": both / alone,
                        "unit": "ms",
                        "goal": "<= 2,000" if kind == "week" else "",
                    }
                )
            received = len(server.received)
            # A tick when everything is sent: the subscriptions and the send log are
            # read, nothing is claimed, no report is made.
            meta = open_meta(store)
            meta.add_report(SITE, RECIPIENT, "week")
            period = last_complete("week", "UTC")
            send_report(store, SITE, "week", period, meta.list_reports(SITE), smtp)

            def tick() -> None:
                outcome = send_report(store, SITE, "week", period, meta.list_reports(SITE), smtp)
                assert not outcome.sent and not outcome.failed

            ticked = _median_ms(tick, runs)
            q = make_query(store, SITE, period="7d", metrics="visitors")
            one = _median_ms(lambda: aggregate(store, q), runs)
            meta.remove_report(SITE, RECIPIENT)
            rows.append(
                {
                    "benchmark": "  report schedule tick, nothing due",
                    "footfall": ticked,
                    "peer": "one aggregate query (7d visitors)",
                    "peer_value": one,
                    "ratio": ticked / one if one else None,
                    "unit": "ms",
                }
            )
            assert received == 2 * (runs + 1), received  # every timed send arrived
    finally:
        store.close()
    return rows
