"""`footfall alerts add|list|remove|check`, and the check loop of `footfall serve`."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from tests.reports.webhook_server import webhook_receiver

import footfall
from footfall.event import Event
from footfall.reports.alert_loop import EXTRAS_KEY, AlertLoop, start_alert_loop
from footfall.server.app import create_app
from footfall.stores.meta import open_meta

from .conftest import SITE, invoke


def _visitors_now(url: str, n: int) -> None:
    """`n` visitors on SITE in the last minute: a spike above 3 at the real time."""
    store = footfall.connect(url)
    try:
        at = datetime.now(timezone.utc) - timedelta(seconds=20)
        store.write(
            [Event(name="pageview", ts=at, site=SITE, visitor_id=f"s{i}") for i in range(n)]
        )
    finally:
        store.close()


def _add(url: str, *args: str) -> str:
    result = invoke("alerts", "add", "--site", SITE, *args, "--db", url)
    assert result.exit_code == 0, result.output
    return result.output


def test_add_list_check_remove(filled_url: str) -> None:
    db = ("--db", filled_url)
    with webhook_receiver() as hook:
        spike = _add(filled_url, "--kind", "spike", "--threshold", "3", "--webhook", hook.url())
        assert "added alert #1 on example.com: current visitors above 3" in spike
        errors = ("--kind", "errors", "--threshold", "5", "--window", "5m", "--min-requests", "50")
        assert "over 5m (at least 50 requests)" in _add(filled_url, *errors, "--email", "a@b.c")
        slow = _add(filled_url, "--kind", "slow", "--p95-ms", "800", "--webhook", hook.url())
        assert "over 15m (at least 20 requests)" in slow
        drop = _add(filled_url, "--kind", "drop", "--below", "50", "--email", "a@b.c")
        assert "below 50% of the same hour last week" in drop

        _visitors_now(filled_url, 5)
        first = invoke("alerts", "check", *db)
        assert first.exit_code == 0, first.output
        assert "checked 4 rules: 1 message sent (1 fired, 0 resolved)" in first.output
        again = invoke("alerts", "check", "--site", SITE, *db)
        assert "checked 4 rules: 0 messages sent\n" in again.output
        listed = invoke("alerts", "list", *db)
        assert listed.exit_code == 0
        lines = listed.output.strip().splitlines()[1:]  # after the store line
        assert lines[0].startswith("#1\texample.com\tspike\tcurrent visitors above 3\t-> ")
        assert lines[0].endswith("http://127.0.0.1/...\tFIRING")  # the webhook's path is secret
        assert lines[1].endswith("-> a@b.c\tok")
    assert len(hook.bodies) == 1 and "example.com: Traffic spike" in hook.bodies[0]["text"]

    refused = invoke("alerts", "remove", "1", *db)
    assert refused.exit_code == 2 and "--yes" in refused.output
    assert invoke("alerts", "remove", "1", "--yes", *db).exit_code == 0
    missing = invoke("alerts", "remove", "1", "--yes", *db)
    assert missing.exit_code == 1 and "no alert #1" in missing.output
    store = footfall.connect(filled_url)
    try:
        assert [r.kind for r in open_meta(store).list_alerts()] == ["errors", "slow", "drop"]
    finally:
        store.close()


MAIL = ("--email", "a@b.c")


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (("--kind", "spike"), "--kind spike needs --threshold"),
        (("--kind", "drop", "--threshold", "5", *MAIL), "takes --below, not --threshold"),
        (("--kind", "errors", "--threshold", "5"), "--email ADDRESS and/or --webhook URL"),
        (("--kind", "errors", "--threshold", "500", *MAIL), "out of range"),
        (("--kind", "spike", "--threshold", "5", "--window", "5m", *MAIL), "--window is for"),
        (("--kind", "slow", "--p95-ms", "5", "--window", "5 weeks", *MAIL), "a window like"),
        (("--kind", "slow", "--p95-ms", "5", "--webhook", "ftp://x/y"), "starts with https://"),
        (("--kind", "spike", "--threshold", "5", "--email", "a@b.c, ops"), "not an email address"),
        (("--kind", "spike", "--threshold", "5", "--email", "<a@b.c>"), "not an email address"),
    ],
)
def test_add_refuses(filled_url: str, args: tuple[str, ...], problem: str) -> None:
    result = invoke("alerts", "add", "--site", SITE, *args, "--db", filled_url)
    assert result.exit_code == 2 and problem in result.output, result.output


def test_add_takes_every_email_option(filled_url: str) -> None:
    emails = ("--email", "ops@example.com", "--email", "dev@example.com, ops@Example.COM")
    _add(filled_url, "--kind", "spike", "--threshold", "1", *emails)
    store = footfall.connect(filled_url)
    try:
        assert [r.email for r in open_meta(store).list_alerts()] == [
            "ops@example.com,dev@example.com"
        ]
    finally:
        store.close()
    listed = invoke("alerts", "list", "--db", filled_url).output
    assert "\t-> ops@example.com, dev@example.com\tok" in listed


def test_add_needs_a_known_site(filled_url: str) -> None:
    args = ("--kind", "spike", "--threshold", "1", *MAIL, "--db", filled_url)
    result = invoke("alerts", "add", "--site", "nowhere.test", *args)
    assert result.exit_code == 1 and "no site nowhere.test" in result.output
    listed = invoke("alerts", "list", "--db", filled_url).output.strip()
    assert listed.endswith("no alerts (add one with `footfall alerts add`)")


def test_check_exits_1_when_an_alert_is_not_delivered(
    filled_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FOOTFALL_SMTP_URL", raising=False)
    _add(filled_url, "--kind", "spike", "--threshold", "3", *MAIL)
    _visitors_now(filled_url, 5)
    result = invoke("alerts", "check", "--db", filled_url)
    assert result.exit_code == 1
    assert "checked 1 rule: 0 messages sent, 1 message not delivered" in result.output


def test_serve_checks_alerts_in_process(filled_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's lifespan starts the loop; every tick checks; one message per episode."""
    monkeypatch.setenv("FOOTFALL_ALERTS_SECONDS", "0.1")
    with webhook_receiver() as hook:
        _add(filled_url, "--kind", "spike", "--threshold", "3", "--webhook", hook.url())
        _visitors_now(filled_url, 5)
        app = create_app(filled_url)
        with TestClient(app):
            loop = app.state.footfall.extras[EXTRAS_KEY]
            assert isinstance(loop, AlertLoop)
            deadline = time.monotonic() + 20
            while loop.checks < 4 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert loop.checks >= 4
        assert not loop.running  # stopped with the server
    assert len(hook.bodies) == 1


def test_loop_is_off_at_zero(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOOTFALL_ALERTS_SECONDS", "0")
    store = footfall.connect(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        assert start_alert_loop(store) is None
    finally:
        store.close()


def _failing_paths_now(url: str, paths: list[str]) -> None:
    """Each path: 10 requests in the last minutes, every one a 500."""
    now = datetime.now(timezone.utc)
    events = [
        Event(
            name="request",
            ts=now - timedelta(seconds=30 + i),
            site=SITE,
            source="server",
            path=path,
            method="GET",
            status=500,
            duration_ms=20.0,
            visitor_id="server",
        )
        for path in paths
        for i in range(10)
    ]
    store = footfall.connect(url)
    try:
        store.write(events)
    finally:
        store.close()


def test_check_counts_messages_not_paths(filled_url: str) -> None:
    """Three paths failing at once are one message, and the check says one."""
    with webhook_receiver() as hook:
        errors = ("--kind", "errors", "--threshold", "5", "--min-requests", "5")
        _add(filled_url, *errors, "--webhook", hook.url())
        _failing_paths_now(filled_url, ["/a", "/b", "/c"])
        result = invoke("alerts", "check", "--db", filled_url)
    assert result.exit_code == 0, result.output
    assert "checked 1 rule: 1 message sent (1 fired, 0 resolved)" in result.output
    assert len(hook.bodies) == 1 and "Server errors on 3 paths" in hook.bodies[0]["text"]
