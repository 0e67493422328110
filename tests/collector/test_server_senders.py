"""Events from server-side senders count: the bot verdict reads the end user's user agent.

A backend's HTTP client (`python-requests/...`, `Go-http-client/...`) is the
transport, not the visitor. It is judged only where the request came from the
visitor's own browser; otherwise the event keeps the user agent it carries
(Snowplow's `ua`, the API's `user_agent`) or none.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from snowplow_tracker import Emitter, PageView, StructuredEvent, Tracker

from footfall.sites import create_token
from footfall.stores import connect

from .live_server import SITE, LiveServer, start_server

logging.getLogger("snowplow_tracker.emitters").setLevel(logging.WARNING)

TP2 = "/com.snowplowanalytics.snowplow/tp2"
ENVELOPE = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"
REQUESTS_UA = "python-requests/2.31.0"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'senders.db'}"


@pytest.fixture
def token(db_url: str) -> str:
    # Made before the server starts: it reads tokens from a snapshot refreshed every 5 s.
    store = connect(db_url)
    try:
        return create_token(store, "backend")[1]
    finally:
        store.close()


@pytest.fixture
def server(db_url: str, token: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    monkeypatch.setenv("FOOTFALL_RATE_LIMIT", "off")
    monkeypatch.delenv("FOOTFALL_SCHEMAS", raising=False)
    live = start_server(db_url)
    yield live
    live.stop()


def _aggregate(server: LiveServer, token: str) -> dict[str, int]:
    r = httpx.get(
        f"{server.url}/api/v1/stats/aggregate",
        params={"site_id": SITE, "period": "day", "metrics": "visitors,pageviews,events"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return {k: v["value"] for k, v in r.json()["results"].items()}


@pytest.mark.parametrize("method", ["post", "get"])
def test_python_tracker_with_default_settings_is_counted(
    server: LiveServer, token: str, method: str
) -> None:
    """Only what a test must set (the address, plain HTTP) differs from the tracker's defaults."""
    failures: list[Any] = []
    emitter = Emitter(
        "127.0.0.1",
        protocol="http",
        port=server.port,
        method=method,  # type: ignore[arg-type]
        on_failure=lambda sent, unsent: failures.append(unsent),
    )
    tracker = Tracker(namespace="backend", emitters=emitter, app_id=SITE)
    for i in range(10):
        tracker.track(PageView(page_url=f"https://example.com/p/{i}", page_title="P"))
        tracker.track(StructuredEvent(category="shop", action="checkout"))
    tracker.flush()
    assert failures == []

    events = server.wait_for(lambda found: len(found) >= 20, source="snowplow")
    assert len(events) == 20
    assert {e.platform for e in events} == {"pc"}  # the Python tracker's default platform
    assert not any(e.is_bot for e in events)
    assert {(e.user_agent, e.browser, e.device) for e in events} == {("", "", "")}
    totals = _aggregate(server, token)
    assert totals["pageviews"] == 10 and totals["events"] == 20


def _sp(platform: str, path: str, **extra: str) -> dict[str, str]:
    return {"e": "pv", "p": platform, "tv": "py-1.1.0", "aid": SITE, "url": path, **extra}


def _post(server: LiveServer, events: list[dict[str, str]], **headers: str) -> None:
    r = httpx.post(
        f"{server.url}{TP2}",
        json={"schema": ENVELOPE, "data": events},
        headers={"User-Agent": REQUESTS_UA, **headers},
        timeout=10,
    )
    assert r.status_code == 200, r.text


def _by_url(server: LiveServer) -> dict[str, Any]:
    return {e.url: e for e in server.events(source="snowplow")}


def test_tp2_without_ua_takes_no_user_agent_from_the_transport(server: LiveServer) -> None:
    _post(
        server,
        [
            _sp("srv", "https://example.com/srv"),
            _sp("app", "https://example.com/app"),
            _sp("pc", "https://example.com/pc"),
            _sp("web", "https://example.com/web-from-a-script"),
            _sp("srv", "https://example.com/srv-with-ua", ua=CHROME),
            _sp("srv", "https://example.com/crawled", ua=GOOGLEBOT),
        ],
    )
    got = _by_url(server)
    for path in ("srv", "app", "pc", "web-from-a-script"):
        event = got[f"https://example.com/{path}"]
        assert (event.user_agent, event.is_bot, event.browser) == ("", False, ""), path
    with_ua = got["https://example.com/srv-with-ua"]
    assert with_ua.user_agent == CHROME and with_ua.browser == "Chrome" and not with_ua.is_bot
    assert got["https://example.com/crawled"].is_bot  # the end user's own agent is judged


def test_browser_requests_are_still_judged_by_their_user_agent(server: LiveServer) -> None:
    origin = {"Origin": "https://example.com"}
    _post(server, [_sp("web", "https://example.com/chrome")], **{**origin, "User-Agent": CHROME})
    _post(server, [_sp("web", "https://example.com/bot")], **{**origin, "User-Agent": GOOGLEBOT})
    _post(server, [_sp("srv", "https://example.com/srv-origin")], **origin)
    for params, agent in (
        (_sp("web", "https://example.com/pixel"), CHROME),
        (_sp("web", "https://example.com/pixel-bot"), GOOGLEBOT),
        (_sp("srv", "https://example.com/srv-get"), REQUESTS_UA),
    ):
        r = httpx.get(f"{server.url}/i", params=params, headers={"User-Agent": agent}, timeout=10)
        assert r.status_code == 200, r.text
    got = _by_url(server)
    chrome = got["https://example.com/chrome"]
    assert chrome.user_agent == CHROME and chrome.browser == "Chrome" and not chrome.is_bot
    assert got["https://example.com/pixel"].browser == "Chrome"
    assert got["https://example.com/bot"].is_bot and got["https://example.com/pixel-bot"].is_bot
    for path in ("srv-origin", "srv-get"):
        event = got[f"https://example.com/{path}"]
        assert (event.user_agent, event.is_bot) == ("", False), path


def test_api_event_with_a_token_takes_no_user_agent_from_the_transport(
    server: LiveServer, token: str
) -> None:
    auth = {"Authorization": f"Bearer {token}", "User-Agent": REQUESTS_UA}
    events = [
        {"name": "signup", "site": SITE, "url": "https://example.com/backend"},
        {"name": "signup", "site": SITE, "url": "https://example.com/fwd", "user_agent": CHROME},
        {"name": "signup", "site": SITE, "url": "https://example.com/bot", "user_agent": GOOGLEBOT},
    ]
    r = httpx.post(f"{server.url}/api/event", json={"events": events}, headers=auth, timeout=10)
    assert r.status_code == 202 and r.json()["accepted"] == 3, r.text
    # An anonymous request is the visitor's browser (or stands for it): its agent is judged.
    r = httpx.post(
        f"{server.url}/api/event",
        json={"name": "pageview", "site": SITE, "url": "https://example.com/anon"},
        headers={"User-Agent": REQUESTS_UA},
        timeout=10,
    )
    assert r.status_code == 202, r.text
    got = {e.url: e for e in server.events()}
    backend = got["https://example.com/backend"]
    assert (backend.user_agent, backend.is_bot, backend.browser) == ("", False, "")
    assert got["https://example.com/fwd"].browser == "Chrome"
    assert not got["https://example.com/fwd"].is_bot
    assert got["https://example.com/bot"].is_bot
    anonymous = got["https://example.com/anon"]
    assert anonymous.user_agent == REQUESTS_UA and anonymous.is_bot
