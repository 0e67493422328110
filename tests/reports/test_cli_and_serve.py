"""`footfall reports ...` and the schedule inside `footfall serve`."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from starlette.testclient import TestClient
from tests.reports.conftest import SITE
from tests.reports.mailserver import mail_server
from tests.stats.dataset import TZ

from footfall.cli import main
from footfall.reports.schedule import EXTRAS_KEY, ReportSchedule, start_report_schedule
from footfall.server.app import create_app
from footfall.stores.meta import open_meta


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), prog_name="footfall")


def test_add_list_remove(db_url: str, store: Any) -> None:
    added = invoke("reports", "add", "--db", db_url, "--site", SITE, "--email", "a@example.com")
    assert added.exit_code == 0, added.output
    assert f"a@example.com will get the weekly report of {SITE}" in added.stdout
    again = invoke("reports", "add", "--db", db_url, "--site", SITE, "--email", "a@example.com")
    assert "already gets" in again.stdout
    monthly = ("--email", "b@example.com", "--period", "month")
    assert invoke("reports", "add", "--db", db_url, "--site", SITE, *monthly).exit_code == 0
    bad = invoke("reports", "add", "--db", db_url, "--site", SITE, "--email", "not an address")
    assert bad.exit_code == 2 and "email address" in bad.output
    nosite = invoke("reports", "add", "--db", db_url, "--site", "no.test", "--email", "a@b.test")
    assert nosite.exit_code == 1 and "no site no.test" in nosite.output
    listed = invoke("reports", "list", "--db", db_url)
    assert listed.stdout.splitlines() == [
        f"{SITE}\tmonth\tb@example.com",
        f"{SITE}\tweek\ta@example.com",
    ]
    remove = ("reports", "remove", "--db", db_url, "--site", SITE, "--email", "a@example.com")
    gone = invoke(*remove, "--yes")
    assert gone.exit_code == 0 and "removed 1 report" in gone.stdout
    assert [s.email for s in open_meta(store).list_reports()] == ["b@example.com"]
    none = invoke(*remove, "--yes")
    assert none.exit_code == 1


def test_add_checks_every_address_before_adding_any(db_url: str, store: Any) -> None:
    emails = ("--email", "a@example.com", "--email", "Bob <bob@example.com>")
    bad = invoke("reports", "add", "--db", db_url, "--site", SITE, *emails)
    assert bad.exit_code == 2 and "email address" in bad.output
    assert "a@example.com will get" not in bad.output
    assert open_meta(store).list_reports() == []


def test_dry_run_prints_the_text_part(db_url: str) -> None:
    result = invoke(
        "reports", "send", "--db", db_url, "--site", SITE, "--date", "2026-10-21", "--dry-run"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{SITE}: Mon 19 Oct - Sun 25 Oct 2026\n")
    assert "Visitors per day" in result.stdout and "Top pages" in result.stdout


def test_send_for_cron_sends_once_and_to_an_address(
    db_url: str, store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FOOTFALL_REPORTS_FROM", "reports@example.com")
    with mail_server() as server:
        monkeypatch.setenv("FOOTFALL_SMTP_URL", server.url())
        week = ("--site", SITE, "--date", "2026-10-21")
        nobody = invoke("reports", "send", "--db", db_url, *week)
        assert nobody.exit_code == 1 and "nobody gets" in nobody.output
        open_meta(store).add_report(SITE, "a@example.com", "week")
        first = invoke("reports", "send", "--db", db_url, *week)
        assert first.exit_code == 0, first.output
        assert "sent to a@example.com" in first.stdout
        second = invoke("reports", "send", "--db", db_url, *week)
        assert second.exit_code == 0 and "had this report already" in second.stdout
        ad_hoc = invoke("reports", "send", "--db", db_url, *week, "--to", "boss@example.com")
        assert ad_hoc.exit_code == 0, ad_hoc.output
    assert [r.rcpt_tos for r in server.received] == [["a@example.com"], ["boss@example.com"]]
    assert "List-Unsubscribe" not in server.received[1].message  # not a subscription


def test_send_without_a_mail_server_says_what_to_set(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FOOTFALL_SMTP_URL", raising=False)
    result = invoke("reports", "send", "--db", db_url, "--site", SITE)
    assert result.exit_code == 1 and "FOOTFALL_SMTP_URL" in result.output


def test_the_schedule_runs_in_serve_only_with_a_mail_server_and_not_turned_off(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FOOTFALL_ALERTS_SECONDS", "0")
    monkeypatch.delenv("FOOTFALL_SMTP_URL", raising=False)
    with TestClient(create_app(db_url)) as client:
        assert client.app.state.footfall.extras[EXTRAS_KEY] is None  # type: ignore[attr-defined]
    monkeypatch.setenv("FOOTFALL_SMTP_URL", "smtp://127.0.0.1:1")
    with TestClient(create_app(db_url)) as client:
        running = client.app.state.footfall.extras[EXTRAS_KEY]  # type: ignore[attr-defined]
        assert isinstance(running, ReportSchedule) and running.running
    assert not running.running  # stopped with the server
    monkeypatch.setenv("FOOTFALL_REPORTS_SCHEDULE", "0")
    assert start_report_schedule(None) is None


def test_send_with_nothing_due_says_so_and_when_the_next_is(
    db_url: str, store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FOOTFALL_SMTP_URL", "smtp://127.0.0.1:1")  # nothing is sent
    none = invoke("reports", "send", "--db", db_url)
    assert none.exit_code == 0, none.output
    assert none.stdout == "nothing due: no reports (add one with `footfall reports add`)\n"
    open_meta(store).add_report(SITE, "a@example.com", "week")  # after last week ended
    result = invoke("reports", "send", "--db", db_url)
    assert result.exit_code == 0, result.output
    # The next Monday 00:10 in the site's time zone (this one while it is still ahead).
    now = datetime.now(ZoneInfo(TZ))
    monday = now.date() - timedelta(days=now.weekday())
    due = datetime.combine(monday, time(0, 10), ZoneInfo(TZ))
    if due <= now:
        due = datetime.combine(monday + timedelta(days=7), time(0, 10), ZoneInfo(TZ))
    at = due.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")
    assert result.stdout == (
        f"nothing due now; next: the weekly report of {SITE}, due at {at} UTC\n"
    )
