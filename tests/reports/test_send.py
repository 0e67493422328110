"""Reports end to end: made by the stats engine, sent over real SMTP, parsed as a mail client would.

The numbers in the received message are checked against the HTTP stats API's
answers for the same days, so a report and the dashboard cannot disagree.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import pytest
from starlette.testclient import TestClient
from tests.private_servers import free_port
from tests.reports.conftest import SITE, subscribe
from tests.reports.mailserver import MailServer, mail_server

from footfall import connect
from footfall.reports.content import METRICS, last_complete
from footfall.reports.schedule import ReportSchedule
from footfall.reports.send import GRACE, send_due
from footfall.server.app import create_app
from footfall.stores import meta_reports
from footfall.stores.meta import open_meta

# A Tuesday: the last complete Berlin week is Mon 19 - Sun 25 Oct 2026, which
# ends summer time and has a day without visits (20 Oct).
NOW = datetime(2026, 10, 27, 10, 0, tzinfo=timezone.utc)
WEEK = ("2026-10-19", "2026-10-25")


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[MailServer]:
    monkeypatch.setenv("FOOTFALL_REPORTS_FROM", "Footfall <reports@example.com>")
    monkeypatch.setenv("FOOTFALL_PUBLIC_URL", "http://testserver/")
    monkeypatch.setenv("FOOTFALL_ALERTS_SECONDS", "0")
    monkeypatch.delenv("FOOTFALL_SMTP_URL", raising=False)
    with mail_server() as server:
        yield server


@pytest.fixture
def api(db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(db_url)) as client:
        yield client


def _stats(api: TestClient, kind: str, first: str, last: str, **params: Any) -> Any:
    answer = api.get(
        f"/api/v1/stats/{kind}",
        params={"site_id": SITE, "period": "custom", "date": f"{first},{last}", **params},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["results"]


def _parts(message: EmailMessage) -> tuple[str, str]:
    assert message.get_content_type() == "multipart/alternative"
    types = [part.get_content_type() for part in message.iter_parts()]
    assert types == ["text/plain", "text/html"]
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def _totals(html: str) -> dict[str, tuple[str, str, str]]:
    found = re.findall(
        r'class="total" data-metric="(\w+)" data-value="([^"]*)" data-change="([^"]*)".*?'
        r'<div class="value"[^>]*>([^<]*)</div>',
        html,
        re.S,
    )
    return {m: (value, change, shown) for m, value, change, shown in found}


def _top(html: str, name: str) -> list[tuple[str, str]]:
    table = re.search(rf'<table[^>]*class="top {name}".*?</table>', html, re.S)
    assert table is not None
    rows = re.findall(
        r"<tr>\s*<td[^>]*>([^<]*)</td>\s*<td align=\"right\"[^>]*>([^<]*)</td>", table[0]
    )
    return rows


def test_weekly_report_has_both_parts_and_the_stats_api_numbers(
    store: Any, smtp: MailServer, api: TestClient
) -> None:
    sub = subscribe(store, "owner@example.com")
    outcome = send_due(store, smtp.url(), now=NOW)
    assert outcome.sent == ["owner@example.com"] and outcome.failed == []
    [got] = smtp.received
    assert got.rcpt_tos == ["owner@example.com"]
    assert got.mail_from == "reports@example.com"
    message = got.message
    assert message["Subject"].startswith(f"{SITE}: ")
    assert "Mon 19 Oct - Sun 25 Oct 2026" in message["Subject"]
    assert message["List-Unsubscribe"] == (
        f"<http://testserver/reports/unsubscribe?token={sub.token}>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = _parts(message)
    assert "<script" not in html and "<svg" not in html

    # Totals and their change: the API's aggregate with compare=previous_period.
    aggregate = _stats(
        api, "aggregate", *WEEK, metrics=",".join(METRICS), compare="previous_period"
    )
    totals = _totals(html)
    assert list(totals) == list(METRICS)
    for metric in METRICS:
        value, change, _ = totals[metric]
        assert int(value) == aggregate[metric]["value"], metric
        expected = aggregate[metric]["change"]
        assert (change or None) == (None if expected is None else str(expected)), metric
    visitors = aggregate["visitors"]["value"]
    assert totals["visitors"][2] == f"{visitors:,}"
    assert re.search(rf"^Visitors:\s+{visitors:,}\b", text, re.M)

    # The chart: a table with one bar per local day, as tall as the API's time series.
    series = _stats(api, "timeseries", *WEEK, metrics="visitors")
    chart = re.search(r'<table[^>]*class="chart".*?</table>\s*<div', html, re.S)
    assert chart is not None
    bars = re.findall(r'<td class="bar" data-date="([^"]+)" data-visitors="(\d+)"', chart[0])
    assert [(d, int(v)) for d, v in bars] == [(r["date"], r["visitors"]) for r in series]
    assert len(bars) == 7 and ("2026-10-20", 0) in [(d, int(v)) for d, v in bars]
    heights = [int(h) for h in re.findall(r'<td height="(\d+)" bgcolor', chart[0])]
    assert max(heights) == 120 and len(heights) == sum(1 for _, v in bars if int(v))

    # Top pages, sources and goals: the API's breakdowns.
    for name, prop, key in (
        ("pages", "event:page", "page"),
        ("sources", "visit:source", "source"),
        ("goals", "event:goal", "goal"),
    ):
        rows = _stats(api, "breakdown", *WEEK, property=prop, metrics="visitors", limit=10)
        assert rows, name
        assert _top(html, name) == [(r[key], f"{r['visitors']:,}") for r in rows], name
        assert all(r[key] in text for r in rows)
    assert {r for r, _ in _top(html, "goals")} == {"Signup", "Visit /pricing"}

    [logged] = open_meta(store).report_sends(SITE)
    assert (logged.status, logged.period_start, logged.email) == (
        "sent",
        date(2026, 10, 19),
        sub.email,
    )
    assert send_due(store, smtp.url(), now=NOW + timedelta(hours=1)).sent == []
    assert len(smtp.received) == 1


def test_monthly_report_compares_with_the_calendar_month_before(
    store: Any, smtp: MailServer, api: TestClient
) -> None:
    subscribe(store, "owner@example.com", "month")
    send_due(store, smtp.url(), now=datetime(2026, 11, 2, 9, tzinfo=timezone.utc))
    [got] = smtp.received
    assert "October 2026" in got.message["Subject"]
    _, html = _parts(got.message)
    now = _stats(api, "aggregate", "2026-10-01", "2026-10-31", metrics="visitors")["visitors"]
    before = _stats(api, "aggregate", "2026-09-01", "2026-09-30", metrics="visitors")["visitors"]
    assert before["value"] == 0  # the data set starts on 10 October
    value, change, _ = _totals(html)["visitors"]
    assert int(value) == now["value"] and change == ""  # nothing to compare with: no figure
    bars = re.findall(r'<td class="bar" data-date="([^"]+)"', html)
    assert bars[0] == "2026-10-01" and bars[-1] == "2026-10-31" and len(bars) == 31


def test_nothing_is_sent_before_the_period_has_ended_and_settled(
    store: Any, smtp: MailServer
) -> None:
    subscribe(store, "owner@example.com")
    monday = datetime(2026, 10, 25, 23, 0, tzinfo=timezone.utc)  # 00:00 in Berlin
    assert last_complete("week", "Europe/Berlin", monday).first == date(2026, 10, 19)
    assert send_due(store, smtp.url(), now=monday + GRACE - timedelta(seconds=1)).sent == []
    assert send_due(store, smtp.url(), now=monday + GRACE).sent == ["owner@example.com"]


def test_a_new_recipient_waits_for_the_next_period(store: Any, smtp: MailServer) -> None:
    open_meta(store).add_report(SITE, "new@example.com", "week")  # subscribed today
    assert send_due(store, smtp.url(), now=NOW).sent == []
    assert smtp.received == []


def test_a_failed_send_is_recorded_and_retried_by_a_later_tick(
    store: Any, smtp: MailServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscribe(store, "owner@example.com")
    down = f"smtp://127.0.0.1:{free_port()}"  # nothing listens there
    outcome = send_due(store, down, now=NOW)
    assert outcome.sent == [] and outcome.failed[0][0] == "owner@example.com"
    [logged] = open_meta(store).report_sends(SITE)
    assert logged.status == "failed" and "cannot reach" in logged.error
    assert send_due(store, smtp.url(), now=NOW).sent == []  # not before its retry time
    later = meta_reports._now() + meta_reports.RETRY_FIRST_SECONDS + 1
    monkeypatch.setattr(meta_reports, "_now", lambda: later)
    assert send_due(store, smtp.url(), now=NOW).sent == ["owner@example.com"]
    assert [r.status for r in open_meta(store).report_sends(SITE)] == ["sent"]
    assert len(smtp.received) == 1


def test_two_schedules_racing_send_each_report_once(
    db_url: str, store: Any, smtp: MailServer
) -> None:
    recipients = [f"r{i}@example.com" for i in range(5)]
    for email in recipients:
        subscribe(store, email)
    subscribe(store, "monthly@example.com", "month")
    # Two server processes: each its own store connection and its own schedule.
    stores = [connect(db_url), connect(db_url)]
    schedules = [ReportSchedule(s, smtp.url(), interval=0.01) for s in stores]
    barrier = threading.Barrier(len(schedules))

    def race(schedule: ReportSchedule) -> None:
        barrier.wait()
        for _ in range(20):
            schedule.tick()

    threads = [threading.Thread(target=race, args=(s,)) for s in schedules]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for s in stores:
        s.close()
    got = sorted(r.rcpt_tos[0] for r in smtp.received)
    assert got == sorted([*recipients, "monthly@example.com"])
    assert all(r.status == "sent" for r in open_meta(store).report_sends(SITE))


def test_unsubscribe_link_confirms_with_post_and_stops_the_next_report(
    db_url: str, store: Any, smtp: MailServer, api: TestClient
) -> None:
    subscribe(store, "leaving@example.com")
    subscribe(store, "staying@example.com")
    send_due(store, smtp.url(), now=NOW)
    leaving = next(r.message for r in smtp.received if r.rcpt_tos == ["leaving@example.com"])
    text, html = _parts(leaving)
    link = re.search(r"^Unsubscribe: (\S+)", text, re.M)
    assert link is not None and f'href="{link[1]}"'.replace("&", "&amp;") in html
    target = urlsplit(link[1])
    path = f"{target.path}?{target.query}"

    page = api.get(path)  # what a mail scanner does: nothing changes
    assert page.status_code == 200 and "Unsubscribe" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "leaving@example.com" in [s.email for s in open_meta(store).list_reports(SITE)]

    done = api.post(path)
    assert done.status_code == 200 and "will not get the weekly report" in done.text
    assert [s.email for s in open_meta(store).list_reports(SITE)] == ["staying@example.com"]
    assert api.post(path).status_code == 404

    smtp.received.clear()
    assert send_due(store, smtp.url(), now=NOW + timedelta(days=7)).sent == ["staying@example.com"]
    assert [r.rcpt_tos for r in smtp.received] == [["staying@example.com"]]


def test_one_click_unsubscribe_from_the_header(
    store: Any, smtp: MailServer, api: TestClient
) -> None:
    subscribe(store, "owner@example.com")
    send_due(store, smtp.url(), now=NOW)
    header = smtp.received[0].message["List-Unsubscribe"].strip("<>")
    target = urlsplit(header)
    answer = api.post(
        f"{target.path}?{target.query}",
        content=b"List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200
    assert open_meta(store).list_reports(SITE) == []
    assert api.get("/reports/unsubscribe?token=nonsense").status_code == 404
