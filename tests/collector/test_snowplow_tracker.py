"""The real Snowplow Python tracker (`snowplow-tracker` from PyPI) sends to a running footfall.

Nothing is adapted on the tracker side: it is pointed at the server's host and
port with its own GET and POST emitters, and every event it sends is found
again, named as documented, through `store.get_usage`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
from snowplow_tracker import (
    Emitter,
    PageView,
    SelfDescribing,
    SelfDescribingJson,
    StructuredEvent,
    Subject,
    Tracker,
)

from footfall.collector.snowplow_protocol import hashed_id

from .live_server import SITE, LiveServer, start_server

logging.getLogger("snowplow_tracker.emitters").setLevel(logging.WARNING)

PRODUCT = "iglu:com.acme/viewed_product/jsonschema/1-0-0"
USER_CTX = "iglu:com.acme/user/jsonschema/1-0-0"
PAGE_CTX = "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0"


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    monkeypatch.setenv("FOOTFALL_RATE_LIMIT", "off")
    monkeypatch.delenv("FOOTFALL_SCHEMAS", raising=False)
    live = start_server(f"sqlite:///{tmp_path / 'sp.db'}")
    yield live
    live.stop()


def _tracker(server: LiveServer, method: str, *, base64: bool, failures: list[Any]) -> Tracker:
    emitter = Emitter(
        "127.0.0.1",
        protocol="http",
        port=server.port,
        method=method,  # type: ignore[arg-type]
        batch_size=1 if method == "get" else 50,
        request_timeout=10,
        on_failure=lambda sent, unsent: failures.append(unsent),
    )
    subject = (
        Subject()
        .set_platform("web")
        .set_user_id("user-42")
        .set_domain_user_id("duid-abc")
        .set_lang("de-DE")
        .set_screen_resolution(1920, 1080)
        .set_timezone("Europe/Berlin")
        .set_useragent("Mozilla/5.0 (X11; Linux x86_64) SnowplowTest/1.0")
        .set_ip_address("198.51.100.7")
    )
    return Tracker(
        namespace=f"ns-{method}",
        emitters=emitter,
        subject=subject,
        app_id=SITE,
        encode_base64=base64,
    )


def _track_all(tracker: Tracker, tag: str, true_ts_ms: int) -> None:
    contexts = [
        SelfDescribingJson(USER_CTX, {"plan": "pro", "tag": tag}),
        SelfDescribingJson(PAGE_CTX, {"id": f"page-{tag}"}),
    ]
    tracker.track(
        PageView(
            page_url=f"https://example.com/{tag}/pricing?ref=x",
            page_title=f"Pricing {tag}",
            referrer="https://www.google.com/",
            context=contexts,
        )
    )
    tracker.track(
        StructuredEvent(
            category="shop",
            action=f"add_to_basket_{tag}",
            label="blue shoes",
            property_="size-42",
            value=59.9,
            context=contexts[:1],
        )
    )
    tracker.track(
        SelfDescribing(
            SelfDescribingJson(PRODUCT, {"sku": f"SKU-{tag}", "price": 12.5, "tags": ["a", "b"]}),
            context=contexts,
            true_timestamp=true_ts_ms,
        )
    )
    tracker.flush()


@pytest.mark.parametrize(
    ("method", "base64"),
    [("get", True), ("get", False), ("post", True), ("post", False)],
    ids=["get-base64", "get-plain", "post-base64", "post-plain"],
)
def test_tracker_events_are_stored_and_named(server: LiveServer, method: str, base64: bool) -> None:
    failures: list[Any] = []
    tag = f"{method}{int(base64)}"
    true_ts = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=2)
    before = datetime.now(timezone.utc)
    _track_all(
        _tracker(server, method, base64=base64, failures=failures),
        tag,
        int(true_ts.timestamp() * 1000),
    )
    assert failures == []

    events = server.events(source="snowplow")
    by_name = {e.name: e for e in events}
    assert sorted(by_name) == sorted(["pageview", f"add_to_basket_{tag}", "viewed_product"])

    pv = by_name["pageview"]
    assert pv.site == SITE and pv.source == "snowplow"
    assert pv.url == f"https://example.com/{tag}/pricing?ref=x"
    assert pv.path == f"/{tag}/pricing" and pv.host == "example.com"
    assert pv.title == f"Pricing {tag}"
    assert pv.referrer == "https://www.google.com/"
    assert pv.schema == ""
    assert pv.context["contexts"] == [
        {"schema": USER_CTX, "data": {"plan": "pro", "tag": tag}},
        {"schema": PAGE_CTX, "data": {"id": f"page-{tag}"}},
    ]
    assert pv.context["tracker"]["namespace"] == f"ns-{method}"
    assert pv.context["tracker"]["version"].startswith("py-")

    se = by_name[f"add_to_basket_{tag}"]
    assert se.props == {
        "category": "shop",
        "label": "blue shoes",
        "property": "size-42",
        "value": 59.9,
    }
    assert se.context["contexts"] == [{"schema": USER_CTX, "data": {"plan": "pro", "tag": tag}}]

    ue = by_name["viewed_product"]
    assert ue.schema == PRODUCT
    assert ue.props == {"sku": f"SKU-{tag}", "price": 12.5, "tags": ["a", "b"]}
    assert len(ue.context["contexts"]) == 2
    assert ue.ts == true_ts  # ttm within the trusted window is the event's time

    for e in events:
        assert e.user_id == "user-42"
        assert e.visitor_id == hashed_id(SITE, "duid-abc") and "duid-abc" not in e.visitor_id
        assert e.language == "de-DE" and e.screen == "1920x1080" and e.timezone == "Europe/Berlin"
        assert e.platform == "web"
        assert e.user_agent == "Mozilla/5.0 (X11; Linux x86_64) SnowplowTest/1.0"
        if e is not ue:  # dtm (device time, corrected by stm): close to now
            assert (
                before - timedelta(seconds=5)
                <= e.ts
                <= datetime.now(timezone.utc) + timedelta(seconds=5)
            )


def test_both_emitters_into_one_store(server: LiveServer) -> None:
    """GET and POST trackers side by side; every event found, none twice."""
    failures: list[Any] = []
    now_ms = int(time.time() * 1000)
    for method in ("get", "post"):
        tracker = _tracker(server, method, base64=True, failures=failures)
        for i in range(5):
            tracker.track(PageView(page_url=f"https://example.com/{method}/{i}"))
        _track_all(tracker, method, now_ms)
    assert failures == []
    events = server.events(site=SITE)
    urls = [e.url for e in events if e.name == "pageview"]
    assert len(urls) == len(set(urls)) == 12
    assert len(events) == 16


def test_post_batch_resent_by_a_tracker_is_stored_once(server: LiveServer) -> None:
    """The event id is Snowplow's eid, so a retried batch does not double data."""
    import httpx

    failures: list[Any] = []
    sent: list[Any] = []
    tracker = _tracker(server, "post", base64=True, failures=failures)
    tracker.emitters[0].on_success = lambda events: sent.extend(events)
    for i in range(3):
        tracker.track(PageView(page_url=f"https://example.com/retry/{i}"))
    tracker.flush()
    assert len(sent) == 3
    body = {
        "schema": "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4",
        "data": sent,
    }
    r = httpx.post(f"{server.url}/com.snowplowanalytics.snowplow/tp2", content=orjson.dumps(body))
    assert r.status_code == 200 and r.text == "ok"
    events = server.events(site=SITE)
    assert sorted(e.id for e in events) == sorted(e["eid"] for e in sent)
