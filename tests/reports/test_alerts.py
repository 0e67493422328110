"""Alert episodes end to end: rules in the metadata store, a real webhook receiver and a
real SMTP server; one fire and one resolved message per episode, however often and
however many processes check (SQLite and PostgreSQL metadata stores)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.reports.alert_data import LATER, NOW, SITES, build
from tests.reports.mailserver import MailServer, mail_server
from tests.reports.webhook_server import Receiver, webhook_receiver
from tests.services import postgres_schema
from tests.stores.backends import clickhouse_store

from footfall import connect
from footfall.errors import ValidationError
from footfall.reports import alerts, webhook
from footfall.reports.alert_message import (
    MAX_LISTED,
    AlertNotice,
    email_message,
    summary,
    webhook_body,
)
from footfall.reports.alerts import check_alerts
from footfall.stores.meta import AlertRule, Site, open_meta

RULES = [
    AlertRule("spike.test", "spike", 3),
    AlertRule("drop.test", "drop", 50, min_requests=10),
    AlertRule("errors.test", "errors", 5, window_seconds=900, min_requests=20),
    AlertRule("slow.test", "slow", 800, window_seconds=900, min_requests=20),
]


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: Any, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'alerts.db'}"
    else:
        with postgres_schema("ff_alerts") as url:
            yield url


@pytest.fixture
def channels(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Receiver, MailServer]]:
    monkeypatch.setattr(webhook, "RETRY_BASE", 0.01)
    with webhook_receiver() as hook, mail_server() as mail:
        monkeypatch.setenv("FOOTFALL_SMTP_URL", mail.url(query="from=alerts@example.com"))
        yield hook, mail


def _setup(url: str, hook: Receiver) -> Any:
    store = connect(url)
    store.write(build())
    meta = open_meta(store)
    for site in SITES:
        meta.add_site(Site(site))
    for rule in RULES:
        meta.add_alert(
            AlertRule(
                rule.site,
                rule.kind,
                rule.threshold,
                rule.window_seconds,
                rule.min_requests,
                email=f"owner@{rule.site}",
                webhook=hook.url(),
            )
        )
    return store


def _texts(hook: Receiver) -> list[str]:
    return sorted(str(b["text"]) for b in hook.bodies)


def test_each_kind_fires_once_and_resolves_once(
    store_url: str, channels: tuple[Receiver, MailServer]
) -> None:
    hook, mail = channels
    store = _setup(store_url, hook)
    try:
        fired = [check_alerts(store, now=NOW + timedelta(minutes=m)) for m in (0, 1, 2)]
        assert [(r.rules, r.fired, r.resolved) for r in fired] == [(4, 4, 0), (4, 0, 0), (4, 0, 0)]
        assert len(hook.bodies) == 4 and len(mail.received) == 4
        states = {
            r.kind: open_meta(store).alert_states(r.id) for r in open_meta(store).list_alerts()
        }
        assert {k: [(s.subject, s.firing) for s in v] for k, v in states.items()} == {
            "spike": [("", True)],
            "drop": [("", True)],
            "errors": [("/api/a", True)],
            "slow": [("/slow", True)],
        }
        ended = [check_alerts(store, now=LATER + timedelta(minutes=m)) for m in (0, 1)]
        assert [(r.fired, r.resolved) for r in ended] == [(0, 4), (0, 0)]
    finally:
        store.close()
    assert len(hook.bodies) == 8 and len(mail.received) == 8
    texts = _texts(hook)
    assert sum("resolved" in t for t in texts) == 4
    errors = [t for t in texts if "errors.test" in t and "resolved" not in t]
    assert len(errors) == 1 and "on 1 path" in errors[0]
    detail = [b["attachments"][0]["text"] for b in hook.bodies if "errors.test" in b["text"]]
    assert detail[0] == "/api/a: 20.0% 5xx responses"  # /api/b: 2 of 2, below the minimum
    subjects = sorted(str(r.message["Subject"]).strip() for r in mail.received)
    assert all(s.startswith("[footfall] ") for s in subjects)
    assert sum(": resolved: " in s for s in subjects) == 4
    spike = next(r for r in mail.received if "spike.test" in r.message["Subject"])
    assert spike.rcpt_tos == ["owner@spike.test"] and spike.mail_from == "alerts@example.com"


def test_racing_evaluators_send_each_transition_once(
    store_url: str, channels: tuple[Receiver, MailServer]
) -> None:
    """Four checkers (each its own store connection, as separate processes have) start
    together, at NOW and again at LATER: 4 fire and 4 resolved messages in all."""
    hook, mail = channels
    _setup(store_url, hook).close()
    with ExitStack() as stack:
        stores = [connect(store_url) for _ in range(4)]
        for s in stores:
            stack.callback(s.close)
        for when in (NOW, NOW + timedelta(minutes=1), LATER, LATER + timedelta(minutes=1)):
            _race([lambda s=s, w=when: check_alerts(s, now=w) for s in stores])
    assert len(hook.bodies) == 8 and len(mail.received) == 8
    assert sum("resolved" in t for t in _texts(hook)) == 4


def _race(calls: list[Callable[[], Any]]) -> None:
    start = threading.Barrier(len(calls))
    failures: list[BaseException] = []

    def run(call: Callable[[], Any]) -> None:
        start.wait()
        try:
            call()
        except BaseException as exc:  # reported by the test below
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not failures, failures


def test_undelivered_alert_is_sent_at_the_next_check(
    tmp_path: Path, channels: tuple[Receiver, MailServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    hook, _ = channels
    monkeypatch.delenv("FOOTFALL_SMTP_URL")  # the webhook is the only channel that works
    store = _setup(f"sqlite:///{tmp_path / 'a.db'}", hook)
    try:
        meta = open_meta(store)
        for rule in meta.list_alerts():
            if rule.kind != "spike":
                meta.remove_alert(rule.id)
        hook.answers = [500, 500, 500]  # every attempt of the first check fails
        first = check_alerts(store, now=NOW)
        assert (first.fired, first.undelivered) == (0, 1)
        [rule] = meta.list_alerts()
        assert [s.firing for s in meta.alert_states(rule.id)] == [False]
        second = check_alerts(store, now=NOW)
        assert (second.fired, second.undelivered) == (1, 0)
        assert check_alerts(store, now=NOW).fired == 0
    finally:
        store.close()
    assert len(hook.paths) == 4 and len(hook.bodies) == 1


def test_transition_claimed_by_a_process_that_died_is_sent_after_the_lease(
    store_url: str, channels: tuple[Receiver, MailServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    hook, mail = channels
    store = _setup(store_url, hook)
    try:
        meta = open_meta(store)
        for rule in meta.list_alerts():
            if rule.kind != "spike":
                meta.remove_alert(rule.id)
        [rule] = meta.list_alerts()
        # the claim a check makes, then the process dies before sending
        assert meta.alert_transition(rule.id, "", True, 5.0) == 1
        within = check_alerts(store, now=NOW)
        assert (within.fired, within.undelivered) == (0, 0)
        assert hook.bodies == [] and mail.received == []
        monkeypatch.setattr(alerts, "RESEND_AFTER", 0)  # the lease has passed
        later = check_alerts(store, now=NOW)
        assert (later.fired, later.resolved, later.undelivered) == (1, 0, 0)
        assert len(hook.bodies) == 1 and len(mail.received) == 1
        assert (check_alerts(store, now=NOW).fired, len(hook.bodies)) == (0, 1)
        # a resolve claimed and never sent is sent after the lease too, once
        assert meta.alert_transition(rule.id, "", False, 0.0) == 2
        assert meta.reclaim_alert_transitions(rule.id, 600) == []
        ended = check_alerts(store, now=LATER)
        assert (ended.fired, ended.resolved) == (0, 1)
        assert check_alerts(store, now=LATER).resolved == 0
        assert len(hook.bodies) == 2 and len(mail.received) == 2
        assert [s.firing for s in meta.alert_states(rule.id)] == [False]
    finally:
        store.close()


def test_removing_a_site_removes_its_alerts(tmp_path: Path) -> None:
    store = connect(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        meta = open_meta(store)
        meta.add_site(Site("spike.test"))
        meta.add_site(Site("other.test"))
        gone = meta.add_alert(AlertRule("spike.test", "spike", 3, webhook="http://127.0.0.1/x"))
        kept = meta.add_alert(AlertRule("other.test", "spike", 3, webhook="http://127.0.0.1/x"))
        assert meta.alert_transition(gone.id, "", True, 5.0) == 1
        meta.remove_site("spike.test")
        assert [r.id for r in meta.list_alerts()] == [kept.id]
        assert meta.alert_states(gone.id) == []
        assert meta.remove_alert(kept.id) and not meta.remove_alert(kept.id)
    finally:
        store.close()


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        (AlertRule("a.test", "outage", 1, webhook="http://127.0.0.1/x"), "kind"),
        (AlertRule("a.test", "spike", float("nan"), webhook="http://127.0.0.1/x"), "threshold"),
        (AlertRule("a.test", "spike", -1, webhook="http://127.0.0.1/x"), "threshold"),
        (AlertRule("a.test", "slow", 1, min_requests=-1, email="o@a.test"), "window_seconds"),
        (AlertRule("a.test", "spike", 1), "email"),
    ],
)
def test_rules_no_check_could_run_are_refused(tmp_path: Path, rule: AlertRule, field: str) -> None:
    store = connect(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        with pytest.raises(ValidationError) as refused:
            open_meta(store).add_alert(rule)
        assert refused.value.field == field
        assert open_meta(store).list_alerts() == []
    finally:
        store.close()


def test_messages_escape_what_came_from_events() -> None:
    rule = AlertRule("a.test", "errors", 5, 900, 20, email="o@a.test", id=7)
    notice = AlertNotice(rule, "fired", {"/x<script>&": 50.0, "/y": 10.0}, NOW)
    message = email_message(notice, "o@a.test")
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    assert "/x<script>&: 50.0% 5xx responses" in plain.get_content()
    assert "/x&lt;script&gt;&amp;" in html.get_content() and "<script>" not in html.get_content()
    body = webhook_body(notice)
    assert body["text"].startswith(":rotating_light: a.test: Server errors on 2 paths")
    [attachment] = body["attachments"]
    assert attachment["text"].splitlines() == [
        "/x&lt;script&gt;&amp;: 50.0% 5xx responses",
        "/y: 10.0% 5xx responses",
    ]
    assert attachment["color"] == "#d9363e" and attachment["footer"] == "footfall alert #7"


def test_messages_count_in_words() -> None:
    spike = AlertRule("a.test", "spike", 0, email="o@a.test")
    one = webhook_body(AlertNotice(spike, "fired", {"": 1.0}, NOW))
    assert one["attachments"][0]["text"] == "1 current visitor"
    slow = AlertRule("a.test", "slow", 800, 900, 20, email="o@a.test")
    paths = {f"/p{i}": 900.0 + i for i in range(MAX_LISTED + 1)}
    notice = AlertNotice(slow, "fired", paths, NOW)
    assert summary(notice).startswith(f"a.test: Slow paths: {MAX_LISTED + 1} (a path's p95")
    assert webhook_body(notice)["attachments"][0]["text"].endswith("\nand 1 more path")


def test_clickhouse_events_with_metadata_apart(
    tmp_path: Path, channels: tuple[Receiver, MailServer]
) -> None:
    """Events in ClickHouse (18.16), rules and episodes in the `--meta` store."""
    hook, mail = channels
    store = clickhouse_store(tmp_path)
    try:
        store.attach_meta(connect(f"sqlite:///{tmp_path / 'meta.db'}"))
        store.write(build())
        meta = open_meta(store)
        for rule in RULES:
            meta.add_site(Site(rule.site))
            meta.add_alert(
                AlertRule(
                    rule.site,
                    rule.kind,
                    rule.threshold,
                    rule.window_seconds,
                    rule.min_requests,
                    webhook=hook.url(),
                )
            )
        counts = [
            (r.fired, r.resolved)
            for r in (check_alerts(store, now=t) for t in (NOW, NOW, LATER, LATER))
        ]
    finally:
        store.close()
    assert counts == [(4, 0), (0, 0), (0, 4), (0, 0)]
    assert len(hook.bodies) == 8 and mail.received == []
