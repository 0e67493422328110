"""Report recipients and the send log (`Meta`) on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from tests.stores.backends import postgres_store

from footfall import connect
from footfall.errors import ValidationError
from footfall.stores import meta_reports
from footfall.stores.meta import Site, open_meta


def _sqlite(tmp_path: Path) -> Any:
    return connect(f"sqlite:///{tmp_path / 'meta.db'}")


FACTORIES = {"sqlite": _sqlite, "postgres": postgres_store}
WEEK = date(2026, 11, 30)


@pytest.fixture(params=sorted(FACTORIES))
def sql_store(request: Any, tmp_path: Path) -> Iterator[Any]:
    store = FACTORIES[request.param](tmp_path)
    yield store
    store.close()


def test_subscriptions(sql_store: Any) -> None:
    meta = open_meta(sql_store)
    a = meta.add_report("a.test", " Owner@Example.COM ", "week")
    assert a is not None and a.email == "Owner@example.com" and len(a.token) >= 32
    assert meta.add_report("a.test", "owner@example.com", "week") is not None  # local part kept
    assert meta.add_report("a.test", "Owner@example.com", "week") is None
    b = meta.add_report("a.test", "Owner@example.com", "month")
    c = meta.add_report("b.test", "x@example.org", "week")
    assert b is not None and c is not None and len({a.token, b.token, c.token}) == 3
    assert [(s.site, s.period, s.email) for s in meta.list_reports()] == [
        ("a.test", "month", "Owner@example.com"),
        ("a.test", "week", "Owner@example.com"),
        ("a.test", "week", "owner@example.com"),
        ("b.test", "week", "x@example.org"),
    ]
    assert [s.email for s in meta.list_reports("b.test")] == ["x@example.org"]
    assert meta.report_by_token(b.token) == b
    assert meta.remove_report("a.test", "owner@example.com", "week") == 1
    assert meta.remove_report("a.test", "Owner@EXAMPLE.com") == 2
    assert [s.site for s in meta.list_reports()] == ["b.test"]
    for email in (
        "nobody",
        "a@b",
        "Name <a@b.test>",
        "a@b.test, c@d.test",
        "a@b.test\r\nBcc: x@y.z",
    ):
        with pytest.raises(ValidationError):
            meta.add_report("a.test", email, "week")
    with pytest.raises(ValidationError):
        meta.add_report("a.test", "a@b.test", "day")


def test_unsubscribe_by_token_and_with_the_site(sql_store: Any) -> None:
    meta = open_meta(sql_store)
    assert meta.add_site(Site("a.test"))
    sub = meta.add_report("a.test", "a@example.com", "week")
    keep = meta.add_report("a.test", "b@example.com", "week")
    assert sub is not None and keep is not None
    assert meta.unsubscribe_report(sub.token) == sub
    assert meta.unsubscribe_report(sub.token) is None
    assert meta.report_by_token(sub.token) is None
    assert meta.claim_report_send("a.test", "week", WEEK, "b@example.com")
    assert meta.remove_site("a.test") == 0
    assert meta.list_reports() == [] and meta.report_sends("a.test") == []


def test_a_report_is_claimed_once_and_a_failure_retried_later(
    sql_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    meta = open_meta(sql_store)
    args = ("a.test", "week", WEEK, "a@example.com")
    assert meta.claim_report_send(*args)
    assert not meta.claim_report_send(*args)  # another process is sending it
    meta.finish_report_send(*args, error="421 try again later")
    [row] = meta.report_sends("a.test")
    assert (row.status, row.attempts, row.error, row.period_start) == (
        "failed",
        1,
        "421 try again later",
        WEEK,
    )
    assert not meta.claim_report_send(*args)  # not before its next try
    later = int(time.time()) + meta_reports.RETRY_FIRST_SECONDS + 1
    monkeypatch.setattr(meta_reports, "_now", lambda: later)
    assert meta.claim_report_send(*args)
    meta.finish_report_send(*args)
    [row] = meta.report_sends("a.test")
    assert (row.status, row.attempts, row.error) == ("sent", 2, "")
    monkeypatch.setattr(meta_reports, "_now", lambda: later + 10**7)
    assert not meta.claim_report_send(*args)  # sent stays sent
    assert meta.claim_report_send("a.test", "month", date(2026, 11, 1), "a@example.com")


def test_a_send_whose_process_died_is_claimed_again_after_its_lease(
    sql_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    meta = open_meta(sql_store)
    args = ("a.test", "week", WEEK, "a@example.com")
    assert meta.claim_report_send(*args)
    soon = int(time.time()) + meta_reports.LEASE_SECONDS - 60
    monkeypatch.setattr(meta_reports, "_now", lambda: soon)
    assert not meta.claim_report_send(*args)
    monkeypatch.setattr(meta_reports, "_now", lambda: soon + 120)
    assert meta.claim_report_send(*args)


def test_attempts_are_bounded(sql_store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    meta = open_meta(sql_store)
    args = ("a.test", "week", WEEK, "a@example.com")
    now = int(time.time())
    for _ in range(meta_reports.MAX_ATTEMPTS):
        monkeypatch.setattr(meta_reports, "_now", lambda: now)
        assert meta.claim_report_send(*args)
        meta.finish_report_send(*args, error="550 no such user")
        now += meta_reports.RETRY_MAX_SECONDS + 1
    monkeypatch.setattr(meta_reports, "_now", lambda: now)
    assert not meta.claim_report_send(*args)
    assert meta.report_sends("a.test")[0].attempts == meta_reports.MAX_ATTEMPTS


def test_racing_claims_have_one_winner(sql_store: Any) -> None:
    meta = open_meta(sql_store)
    wins: list[bool] = []
    barrier = threading.Barrier(6)

    def claim() -> None:
        barrier.wait()
        wins.append(meta.claim_report_send("a.test", "week", WEEK, "a@example.com"))

    threads = [threading.Thread(target=claim) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False] * 5 + [True]
