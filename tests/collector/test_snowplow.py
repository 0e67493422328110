"""Snowplow endpoints over real HTTP: bad payloads, status policy, CORS, schemas, mapping rules."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from footfall.collector.snowplow import snowplow_status
from footfall.collector.snowplow_protocol import (
    MAX_AGE,
    SnowplowError,
    event_from_params,
    hashed_id,
)
from footfall.stores.meta import open_meta

from .live_server import SITE, LiveServer, start_server

TP2 = "/com.snowplowanalytics.snowplow/tp2"
ENVELOPE = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"
UNSTRUCT = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
CONTEXTS = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1"
PRODUCT = "iglu:com.acme/viewed_product/jsonschema/1-0-0"
BASE = {"p": "web", "tv": "js-3.24.0", "aid": SITE}


def _b64(doc: Any, *, urlsafe: bool = True, pad: bool = False) -> str:
    raw = json.dumps(doc).encode()
    text = (base64.urlsafe_b64encode(raw) if urlsafe else base64.b64encode(raw)).decode()
    return text if pad else text.rstrip("=")


def _ue(data: Any, schema: str = PRODUCT) -> dict[str, Any]:
    return {"schema": UNSTRUCT, "data": {"schema": schema, "data": data}}


def _pv(path: str) -> dict[str, Any]:
    return {**BASE, "e": "pv", "url": f"https://example.com{path}"}


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    monkeypatch.setenv("FOOTFALL_RATE_LIMIT", "off")
    monkeypatch.delenv("FOOTFALL_SCHEMAS", raising=False)
    live = start_server(f"sqlite:///{tmp_path / 'sp.db'}")
    yield live
    live.stop()


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


def _post(http: httpx.Client, events: list[Any]) -> httpx.Response:
    return http.post(TP2, json={"schema": ENVELOPE, "data": events})


# Each bad event, with the field its error must name. Sent between two good events.
BAD_EVENTS: list[tuple[str, dict[str, Any], str]] = [
    ("bad base64", {**BASE, "e": "ue", "ue_px": "%%%not*base64%%%"}, "ue_px"),
    ("base64 of non-JSON", {**BASE, "e": "ue", "ue_px": "bm90IGpzb24"}, "ue_px"),
    ("ue_pr not JSON", {**BASE, "e": "ue", "ue_pr": "{not json"}, "ue_pr"),
    ("ue without payload", {**BASE, "e": "ue"}, "ue_pr"),
    ("ue not self-describing", {**BASE, "e": "ue", "ue_pr": json.dumps({"sku": 1})}, "ue_pr"),
    (
        "ue schema not iglu",
        {**BASE, "e": "ue", "ue_pr": json.dumps(_ue({}, "http://x/y"))},
        "ue_pr",
    ),
    ("ue data not an object", {**BASE, "e": "ue", "ue_pr": json.dumps(_ue([1, 2]))}, "ue_pr"),
    ("missing e", {k: v for k, v in _pv("/x").items() if k != "e"}, "e"),
    ("missing p", {k: v for k, v in _pv("/x").items() if k != "p"}, "p"),
    ("missing tv", {k: v for k, v in _pv("/x").items() if k != "tv"}, "tv"),
    ("unknown platform", {**_pv("/x"), "p": "toaster"}, "p"),
    ("unknown event type", {**BASE, "e": "zz"}, "e"),
    ("unknown aid site", {**_pv("/x"), "aid": "not-registered.example"}, "site"),
    ("no aid at all", {k: v for k, v in _pv("/x").items() if k != "aid"}, "site"),
    ("se without action", {**BASE, "e": "se", "se_ca": "shop"}, "se_ac"),
    ("se value not a number", {**BASE, "e": "se", "se_ac": "a", "se_va": "lots"}, "se_va"),
    ("contexts not JSON", {**_pv("/x"), "co": "[oops"}, "co"),
    ("cx bad base64", {**_pv("/x"), "cx": "***"}, "cx"),
    (
        "contexts wrong shape",
        {**_pv("/x"), "co": json.dumps({"schema": CONTEXTS, "data": 5})},
        "co",
    ),
    ("javascript: url", {**_pv("/x"), "url": "javascript:alert(1)"}, "url"),
    ("data: referrer", {**_pv("/x"), "refr": "data:text/html,hi"}, "refr"),
    ("dtm not a number", {**_pv("/x"), "dtm": "yesterday"}, "dtm"),
    ("NUL in a field", {**_pv("/x"), "page": "a\x00b"}, "title"),
    ("NUL in props", {**BASE, "e": "se", "se_ac": "a", "se_la": "x\x00"}, "props.label"),
    ("non-string value", {**_pv("/x"), "url": ["https://example.com/"]}, "url"),
    ("event not an object", "e=pv&p=web", "event"),
    (
        "deep ue data",
        {**BASE, "e": "ue", "ue_pr": json.dumps(_ue({"a": [[[[[[[[[[1]]]]]]]]]]}))},
        "props",
    ),
]


@pytest.mark.parametrize(("case", "bad", "field"), BAD_EVENTS, ids=[c[0] for c in BAD_EVENTS])
def test_bad_event_in_a_post_batch(server, http, case, bad, field):
    r = _post(http, [_pv("/before"), bad, _pv("/after")])
    assert r.status_code in (400, 422), r.text
    body = r.json()
    assert body["accepted"] == 2 and body["rejected"] == 1
    [err] = body["errors"]
    assert err["index"] == 1 and err["field"].startswith(field) and err["reason"]
    if case == "base64 of non-JSON":
        assert "JSON" in err["reason"]
    paths = sorted(e.path for e in server.events())
    assert paths == ["/after", "/before"]


@pytest.mark.parametrize(
    ("case", "bad", "field"),
    [c for c in BAD_EVENTS if isinstance(c[1], dict) and c[0] != "non-string value"],
    ids=[c[0] for c in BAD_EVENTS if isinstance(c[1], dict) and c[0] != "non-string value"],
)
def test_bad_event_as_a_get(server, http, case, bad, field):
    assert http.get("/i", params=_pv("/before")).status_code == 200
    r = http.get("/i", params=bad)
    assert r.status_code in (400, 422), r.text
    assert r.json()["errors"][0]["field"].startswith(field)
    assert http.get("/ice.png", params=_pv("/after")).status_code == 200
    assert sorted(e.path for e in server.events()) == ["/after", "/before"]


@pytest.mark.parametrize(
    ("case", "body", "headers"),
    [
        ("not JSON", b"{nope", {}),
        ("invalid UTF-8", b'{"schema": "\xff\xfe", "data": []}', {}),
        ("not an envelope", b'[{"e": "pv"}]', {}),
        ("data not a list", json.dumps({"schema": ENVELOPE, "data": {}}).encode(), {}),
        (
            "wrong envelope schema",
            json.dumps({"schema": "iglu:x/y/jsonschema/1-0-0", "data": []}).encode(),
            {},
        ),
        (
            "too many events",
            json.dumps({"schema": ENVELOPE, "data": [_pv("/x")] * 1001}).encode(),
            {},
        ),
        ("oversize body", b'{"schema": "' + b"x" * 1_100_000 + b'"}', {}),
        ("deep nesting", b"[" * 5000 + b"]" * 5000, {}),
        (
            "bad token",
            json.dumps({"schema": ENVELOPE, "data": [_pv("/x")]}).encode(),
            {"authorization": "Bearer nope"},
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_bad_post_body_is_refused_whole(server, http, case, body, headers):
    assert _post(http, [_pv("/before")]).status_code == 200
    r = http.post(TP2, content=body, headers={"content-type": "application/json", **headers})
    # Snowplow trackers retry everything but 400, 401, 403, 410 and 422.
    assert r.status_code in (400, 401, 422), r.text
    assert r.json()["error"]
    assert _post(http, [_pv("/after")]).status_code == 200
    assert sorted(e.path for e in server.events()) == ["/after", "/before"]


def test_post_answers_ok_with_cors_for_the_js_tracker(http):
    r = http.post(
        TP2,
        json={"schema": ENVELOPE, "data": [_pv("/x")]},
        headers={"origin": "https://shop.example.com"},
    )
    assert r.status_code == 200 and r.text == "ok"
    assert r.headers["access-control-allow-origin"] == "https://shop.example.com"
    assert r.headers["access-control-allow-credentials"] == "true"


def test_preflight(http):
    r = http.options(
        TP2,
        headers={
            "origin": "https://shop.example.com",
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type,sp-anonymous",
        },
    )
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "https://shop.example.com"
    assert "POST" in r.headers["access-control-allow-methods"]
    assert "sp-anonymous" in r.headers["access-control-allow-headers"].lower()


def test_get_pixel_is_a_gif_never_cached(server, http):
    for path in ("/i", "/ice.png"):
        r = http.get(path, params=_pv(path))
        assert r.status_code == 200
        assert r.headers["content-type"] == "image/gif" and r.content.startswith(b"GIF89a")
        assert "no-store" in r.headers["cache-control"]
    assert http.head("/i", params=_pv("/head")).status_code == 200  # a HEAD is no event
    assert sorted(e.path for e in server.events()) == ["/i", "/ice.png"]


@pytest.mark.parametrize(
    "encode",
    [
        lambda d: {"ue_px": _b64(d, urlsafe=True, pad=False)},
        lambda d: {"ue_px": _b64(d, urlsafe=True, pad=True)},
        lambda d: {"ue_px": _b64(d, urlsafe=False, pad=True)},
        lambda d: {"ue_px": _b64(d, urlsafe=False, pad=False)},
        lambda d: {"ue_pr": json.dumps(d)},
    ],
    ids=["urlsafe", "urlsafe-padded", "standard-padded", "standard", "plain"],
)
def test_ue_encodings(server, http, encode):
    # "ü?>" makes standard and URL-safe base64 differ ("+" and "/" vs "-" and "_").
    data = {"sku": "ü?>>>?", "n": 3}
    r = http.get("/i", params={**BASE, "e": "ue", **encode(_ue(data))})
    assert r.status_code == 200, r.text
    [e] = server.events()
    assert e.name == "viewed_product" and e.schema == PRODUCT and e.props == data


def test_schema_registry_validates_self_describing_events(tmp_path, monkeypatch):
    monkeypatch.setenv("FOOTFALL_RATE_LIMIT", "off")
    schema_dir = tmp_path / "schemas" / "com.acme" / "viewed_product" / "jsonschema"
    schema_dir.mkdir(parents=True)
    (schema_dir / "1-0-0").write_text(
        json.dumps(
            {
                "type": "object",
                "properties": {"sku": {"type": "string"}},
                "required": ["sku"],
                "additionalProperties": False,
            }
        )
    )
    live = start_server(f"sqlite:///{tmp_path / 's.db'}", schemas_dir=str(tmp_path / "schemas"))
    try:
        good = {**BASE, "e": "ue", "ue_pr": json.dumps(_ue({"sku": "A1"}))}
        bad = {**BASE, "e": "ue", "ue_pr": json.dumps(_ue({"sku": 5}))}
        with httpx.Client(base_url=live.url, timeout=10) as http:
            r = _post(http, [good, bad, _pv("/p")])
        # The invalid event is kept as a failed event (retried by `footfall failed retry`),
        # so the tracker is told the batch was taken and must not resend it.
        assert r.status_code == 200, r.text
        events = live.events()
        assert sorted(e.name for e in events) == ["pageview", "viewed_product"]
        assert [e.props for e in events if e.name == "viewed_product"] == [{"sku": "A1"}]
        [failed] = open_meta(live.state.store).list_failed("failed", 10, None)
        assert failed.schema == PRODUCT and "sku" in failed.reason
        assert json.loads(failed.payload)["ue_pr"] == bad["ue_pr"]
    finally:
        live.stop()


def test_malformed_events_are_kept_as_failed_for_inspection(server, http):
    r = _post(http, [{**BASE, "e": "ue", "ue_px": "***"}])
    assert r.status_code == 400
    server.flush()
    [failed] = open_meta(server.state.store).list_failed("failed", 10, None)
    assert failed.source == "snowplow" and failed.site == SITE
    assert "base64" in failed.reason and "***" in failed.payload


# -- pure mapping rules ------------------------------------------------------------------

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def _ms(ts: datetime) -> str:
    return str(int(ts.timestamp() * 1000))


def test_timestamp_rules():
    def ts(**params: str) -> datetime:
        return event_from_params({**_pv("/"), **params}, now=NOW).ts

    two_days = NOW - timedelta(days=2)
    assert ts(ttm=_ms(two_days), dtm=_ms(NOW)) == two_days
    assert ts() == NOW
    # Device clock 3 hours fast, event held 20 s: derived from the server's clock.
    fast = NOW + timedelta(hours=3)
    assert ts(dtm=_ms(fast - timedelta(seconds=20)), stm=_ms(fast)) == NOW - timedelta(seconds=20)
    assert ts(dtm=_ms(NOW - timedelta(minutes=5))) == NOW - timedelta(minutes=5)
    too_old = NOW - MAX_AGE - timedelta(hours=1)
    assert ts(ttm=_ms(too_old)) == NOW
    assert ts(dtm=_ms(NOW + timedelta(days=1))) == NOW
    with pytest.raises(SnowplowError):
        ts(dtm="-5")


def test_identity_rules():
    e = event_from_params(
        {**_pv("/"), "duid": "d1", "nuid": "n1", "sid": "s1", "uid": "u"}, now=NOW
    )
    assert e.visitor_id == hashed_id(SITE, "d1") and e.visit_id == hashed_id(SITE, "s1")
    assert e.user_id == "u"
    assert hashed_id(SITE, "d1") != hashed_id("other.example", "d1")
    assert hashed_id("Example.COM", "d1") == hashed_id(SITE, "d1")
    assert event_from_params({**_pv("/"), "tnuid": "n1"}, now=NOW).visitor_id == hashed_id(
        SITE, "n1"
    )
    assert event_from_params(_pv("/"), now=NOW).visitor_id == ""  # the cookieless one, later
    eid = "0b6a1a4e-6a55-4c46-9b43-6a0c7b2a6a11"
    assert event_from_params({**_pv("/"), "eid": eid}, now=NOW).id == eid
    assert event_from_params({**_pv("/"), "eid": "x' OR 1=1"}, now=NOW).id != "x' OR 1=1"


def test_structured_and_ecommerce_mapping():
    se = event_from_params(
        {
            **BASE,
            "e": "se",
            "se_ca": "c",
            "se_ac": "play",
            "se_la": "l",
            "se_pr": "p",
            "se_va": "2",
        },
        now=NOW,
    )
    assert se.name == "play" and se.props == {
        "category": "c",
        "label": "l",
        "property": "p",
        "value": 2,
    }
    tr = event_from_params(
        {**BASE, "e": "tr", "tr_id": "o1", "tr_tt": "9.5", "tr_cu": "EUR"}, now=NOW
    )
    assert tr.name == "transaction" and tr.props == {
        "order_id": "o1",
        "total": 9.5,
        "currency": "EUR",
    }
    pp = event_from_params({**_pv("/"), "e": "pp", "pp_may": "800"}, now=NOW)
    assert pp.name == "page_ping" and pp.props == {"max_y": 800}


def test_status_policy_never_asks_for_endless_retries():
    assert snowplow_status({400}) == 400
    assert snowplow_status({422}) == 422
    assert snowplow_status({404}) == 422  # unknown site: retrying cannot help
    assert snowplow_status({400, 404}) == 422
    assert snowplow_status({400, 503}) == 503  # queue full: retry later, stored ones dedupe
    assert snowplow_status({429, 400}) == 429


def test_query_string_round_trip_of_the_get_pixel(server, http):
    """A hand-built GET, as the JS tracker's GET mode sends it (everything URL-encoded)."""
    ctx = {
        "schema": CONTEXTS,
        "data": [{"schema": "iglu:com.acme/ab/jsonschema/1-0-0", "data": {"v": "B"}}],
    }
    query = urlencode(
        {**_pv("/q?a=1&b=2"), "refr": "https://t.co/x", "cx": _b64(ctx), "page": "Ünïcode"}
    )
    r = http.get(f"/i?{query}")
    assert r.status_code == 200
    [e] = server.events()
    assert e.url == "https://example.com/q?a=1&b=2" and e.path == "/q"
    assert e.title == "Ünïcode" and e.referrer == "https://t.co/x"
    assert e.context["contexts"] == ctx["data"]


def test_post_may_carry_ue_and_contexts_as_json_values(server, http):
    """Some trackers put the JSON itself in the POST body rather than a JSON string."""
    ctx = {
        "schema": CONTEXTS,
        "data": [{"schema": "iglu:com.acme/ab/jsonschema/1-0-0", "data": {}}],
    }
    r = _post(http, [{**BASE, "e": "ue", "ue_pr": _ue({"sku": "J"}), "co": ctx, "dtm": 1}])
    assert r.status_code == 200, r.text
    [e] = server.events()
    assert e.name == "viewed_product" and e.props == {"sku": "J"}
    assert e.context["contexts"] == ctx["data"]
