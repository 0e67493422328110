"""One visitor rule on every path: the same custom events count the same visitors.

Sent from an in-process `Tracker`, through `HttpSink` to a real `footfall
serve`, and through `CelerySink` to a real Celery worker, six events of three
users and two events of nobody count 3 visitors and 8 events, read back from
the stats API of that `footfall serve`. Neither the transport's user agent
(`footfall-http-sink/1`) nor the backend's address stands in for a visitor,
and no raw user id becomes a visitor id.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from footfall import connect
from footfall.delivery.http_sink import HttpSink
from footfall.event import Event
from footfall.sites import add_site, create_token
from footfall.tracker import Tracker
from services import need_rabbitmq
from transports.helpers import Serve, wait_for
from transports.http_app import free_port
from transports.test_celery_sink import celery_worker, queue  # noqa: F401 - fixtures

celery = pytest.importorskip("celery")

SITES = {"tracker": "in-process.example", "http": "http-sink.example", "celery": "celery.example"}
USERS = ("u-1", "u-2", "u-3")


@pytest.fixture
def broker() -> str:
    """RabbitMQ, as deployment.md shows (test_celery_sink.py covers the Redis broker too)."""
    return need_rabbitmq()


@pytest.fixture
def token(db_url: str) -> str:
    """A token for every site: HttpSink sends with it, the stats API is read with it."""
    store = connect(db_url)
    try:
        for site in SITES.values():
            add_site(store, site)
        return create_token(store, "backend")[1]  # before serve starts: it snapshots tokens
    finally:
        store.close()


@pytest.fixture
def serve(db_url: str, tmp_path: Path, token: str) -> Iterator[Serve]:
    s = Serve(db_url, free_port(), tmp_path / "serve.log")
    s.start()
    yield s
    s.stop()


def _emit_the_same_events(tracker: Tracker, site: str) -> list[Event]:
    """Two events per user, and two of nobody (a cron job's, say)."""
    sent = []
    for user in USERS:
        sent.append(tracker.emit("shop.checkout", {"plan": "pro"}, site=site, user_id=user))
        sent.append(tracker.emit("report.exported", site=site, user_id=user))
    sent += [tracker.emit("cron.cleanup", site=site) for _ in range(2)]
    return sent


def _totals(serve: Serve, token: str, site: str) -> dict[str, int]:
    r = httpx.get(
        f"{serve.url}/api/v1/stats/aggregate",
        params={"site_id": site, "period": "day", "metrics": "visitors,events"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return {k: v["value"] for k, v in r.json()["results"].items()}


def _stored(db_url: str, site: str) -> list[Event]:
    store = connect(db_url)
    try:
        return [e for e in store.get_usage(limit=1_000) if e.site == site]
    finally:
        store.close()


def test_custom_events_count_the_same_visitors_on_every_path(
    db_url: str, serve: Serve, token: str, broker: str, request: pytest.FixtureRequest
) -> None:
    celery_queue = request.getfixturevalue("queue")
    request.getfixturevalue("celery_worker")  # a real worker on that queue, storing in db_url
    in_process = Tracker([db_url], site=SITES["tracker"])
    _emit_the_same_events(in_process, SITES["tracker"])
    assert in_process.close(30) == 0

    over_http = Tracker([HttpSink(serve.url, token)], site=SITES["http"])
    _emit_the_same_events(over_http, SITES["http"])
    assert over_http.close(30) == 0

    app = celery.Celery("producer", broker=broker)
    from footfall.delivery.celery_sink import CelerySink

    via_celery = Tracker([CelerySink(app, queue=celery_queue)], site=SITES["celery"])
    _emit_the_same_events(via_celery, SITES["celery"])
    assert via_celery.close(30) == 0

    for path, site in SITES.items():
        wait_for(lambda site=site: len(_stored(db_url, site)) == 8, what=f"{path}'s events")
    totals = {path: _totals(serve, token, site) for path, site in SITES.items()}
    assert totals == {path: {"visitors": 3, "events": 8} for path in SITES}

    for path, site in SITES.items():
        events = _stored(db_url, site)
        by_user: dict[str, set[str]] = {}
        for e in events:
            by_user.setdefault(e.user_id, set()).add(e.visitor_id)
            assert not e.is_bot and e.browser == "" and e.ip == "", (path, e)
        assert by_user[""] == {""}, path  # nobody's events: no visitor
        ids = [by_user[u] for u in USERS]
        assert all(len(v) == 1 for v in ids), (path, by_user)  # one visitor per user
        assert len(set().union(*ids)) == 3, path
        assert not set().union(*ids) & set(USERS), path  # hashed, never the raw user id


def test_the_api_takes_no_visitor_from_the_sending_backend(
    db_url: str, serve: Serve, token: str
) -> None:
    """Events of nobody posted with a token from one backend are not one visitor."""
    site = SITES["http"]
    body = {"events": [{"name": "cron.cleanup", "site": site} for _ in range(3)]}
    headers = {"Authorization": f"Bearer {token}", "User-Agent": "footfall-http-sink/1"}
    r = httpx.post(f"{serve.url}/api/event", json=body, headers=headers, timeout=10)
    assert r.status_code == 202 and r.json()["accepted"] == 3, r.text
    # An end user's address and agent forwarded by the backend still make a visitor.
    forwarded = {"name": "signup", "site": site, "ip": "81.2.69.142", "user_agent": "Firefox/1"}
    r = httpx.post(f"{serve.url}/api/event", json=forwarded, headers=headers, timeout=10)
    assert r.status_code == 202, r.text
    wait_for(lambda: len(_stored(db_url, site)) == 4, what="the posted events")
    assert _totals(serve, token, site) == {"visitors": 1, "events": 4}
    visitors = {e.name: e.visitor_id for e in _stored(db_url, site)}
    assert visitors["cron.cleanup"] == "" and visitors["signup"] != ""
