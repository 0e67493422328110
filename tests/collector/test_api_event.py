"""POST /api/event: good events stored, every bad input a 4xx with a reason, never a 500."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

GOOD = {"n": "pageview", "u": "https://example.com/before", "d": "example.com"}
AFTER = {"name": "signup", "url": "https://example.com/after", "site": "example.com"}


def _batch(env, bad, *, ctype="application/json", headers=None):
    """Send [good, bad, good]; return the response and the stored urls."""
    body = (
        b'{"events": ['
        + json.dumps(GOOD).encode()
        + b","
        + bad
        + b","
        + json.dumps(AFTER).encode()
        + b"]}"
    )
    r = env.client.post(
        "/api/event", content=body, headers={"content-type": ctype, **(headers or {})}
    )
    return r, sorted(e.url for e in env.stored())


def test_single_event_plausible_names(env):
    r = env.client.post(
        "/api/event",
        json={
            "n": "pageview",
            "u": "https://example.com/p?utm_source=x",
            "r": "https://news.example.net/",
            "d": "example.com",
            "w": 1280,
            "p": '{"plan": "pro"}',
            "h": 0,
        },
        headers={"user-agent": "Mozilla/5.0 test"},
    )
    assert r.status_code == 202, r.text
    assert r.json() == {"accepted": 1, "rejected": 0}
    assert "access-control-allow-origin" in r.headers
    [ev] = env.stored()
    assert ev.site == "example.com" and ev.source == "browser"
    assert ev.referrer == "https://news.example.net/" and ev.screen == "1280"
    assert ev.props == {"plan": "pro"}
    assert ev.user_agent == "Mozilla/5.0 test"
    # The request's IP fed the cookieless visitor id, then privacy dropped it.
    assert ev.visitor_id and ev.ip == ""
    assert abs((datetime.now(timezone.utc) - ev.ts).total_seconds()) < 60


def test_text_plain_list_body_like_sendbeacon(env):
    body = json.dumps([GOOD, AFTER])
    r = env.client.post("/api/event", content=body, headers={"content-type": "text/plain"})
    assert r.status_code == 202 and r.json()["accepted"] == 2
    assert len(env.stored()) == 2


def test_site_domain_is_normalised(env):
    r = env.client.post("/api/event", json={**GOOD, "d": "Example.COM"})
    assert r.status_code == 202
    assert env.stored()[0].site == "example.com"


BAD_EVENTS = [
    pytest.param(
        b'{"n": 123, "u": "https://example.com/x", "d": "example.com"}',
        "name",
        id="wrong-type-name",
    ),
    pytest.param(b'{"u": 5, "d": "example.com"}', "url", id="wrong-type-url"),
    pytest.param(b'{"p": [1, 2], "d": "example.com"}', "props", id="props-not-object"),
    pytest.param(b'{"p": "{not json", "d": "example.com"}', "props", id="props-bad-json-string"),
    pytest.param(b'["just a string"]', "event", id="event-not-object"),
    pytest.param(b'{"u": "javascript:alert(1)", "d": "example.com"}', "url", id="javascript-url"),
    pytest.param(
        b'{"u": "JavaScript:alert(1)", "d": "example.com"}', "url", id="javascript-url-case"
    ),
    pytest.param(b'{"u": "data:text/html,<b>x</b>", "d": "example.com"}', "url", id="data-url"),
    pytest.param(
        b'{"u": "https://example.com/", "r": "javascript:x()", "d": "example.com"}',
        "referrer",
        id="javascript-referrer",
    ),
    pytest.param(b'{"u": "ftp://example.com/", "d": "example.com"}', "url", id="non-http-url"),
    pytest.param(b'{"n": "a\\u0000b", "d": "example.com"}', "name", id="nul-in-name"),
    pytest.param(
        b'{"p": {"k": "v\\u0000"}, "d": "example.com"}', "props.k", id="nul-in-prop-value"
    ),
    pytest.param(b'{"p": {"k\\u0000": "v"}, "d": "example.com"}', "props", id="nul-in-prop-key"),
    pytest.param(b'{"n": "' + b"x" * 300 + b'", "d": "example.com"}', "name", id="name-too-long"),
    pytest.param(
        b'{"u": "https://example.com/' + b"x" * 5000 + b'", "d": "example.com"}',
        "url",
        id="url-too-long",
    ),
    pytest.param(
        b'{"p": {' + b",".join(b'"k%d": 1' % i for i in range(60)) + b'}, "d": "example.com"}',
        "props",
        id="too-many-props",
    ),
    pytest.param(
        b'{"p": {"a": ' + b'{"b": ' * 10 + b"1" + b"}" * 10 + b'}, "d": "example.com"}',
        "props",
        id="props-too-deep",
    ),
    pytest.param(b'{"d": "unknown.example"}', "site", id="unknown-site"),
    pytest.param(b'{"u": "https://example.com/"}', "site", id="missing-site"),
    pytest.param(b'{"ts": "2020-01-01T00:00:00Z", "d": "example.com"}', "ts", id="anonymous-ts"),
    pytest.param(
        b'{"visitor_id": "v1", "d": "example.com"}', "visitor_id", id="anonymous-visitor-id"
    ),
    pytest.param(b'{"ip": "1.2.3.4", "d": "example.com"}', "ip", id="anonymous-ip"),
    pytest.param(b'{"bogus": 1, "d": "example.com"}', "bogus", id="unknown-field"),
]


@pytest.mark.parametrize(("bad", "field"), BAD_EVENTS)
def test_bad_event_refused_with_reason_and_neighbours_stored(env, bad, field):
    r, urls = _batch(env, bad)
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["accepted"] == 2 and body["rejected"] == 1
    [err] = body["errors"]
    assert err["index"] == 1
    assert err["field"].startswith(field)
    assert err["reason"]
    assert urls == ["https://example.com/after", "https://example.com/before"]


@pytest.mark.parametrize(("bad", "field"), BAD_EVENTS)
def test_bad_event_alone_is_4xx(env, bad, field):
    r = env.client.post(
        "/api/event", content=b"[" + bad + b"]", headers={"content-type": "application/json"}
    )
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["errors"][0]["reason"]
    assert env.stored() == []


BAD_BODIES = [
    pytest.param(b'{"n": "pageview", ', 400, "not valid JSON", id="malformed-json"),
    pytest.param(b"", 400, "empty", id="empty-body"),
    pytest.param(b"[]", 400, "empty", id="empty-list"),
    pytest.param(b"42", 400, "must be an event", id="not-an-object"),
    pytest.param(b'{"events": {"n": "x"}}', 400, "must be a list", id="events-not-list"),
    pytest.param(b'{"n": "\xff\xfe"}', 400, "UTF-8", id="invalid-utf8"),
    pytest.param(b'{"n": "\xed\xa0\x80"}', 400, "UTF-8", id="utf8-surrogate"),
    pytest.param(b"[" * 5000 + b"]" * 5000, 400, "deeply", id="deep-nesting"),
    pytest.param(b'{"n": "a\x00b", "d": "example.com"}', 400, "JSON", id="raw-nul-byte"),
    pytest.param(b'{"p": {"x": 1e999}, "d": "example.com"}', 400, "infinity", id="infinite-number"),
    pytest.param(
        json.dumps({"events": [GOOD] * 1001}).encode(), 400, "more than 1000", id="too-many-events"
    ),
]


@pytest.mark.parametrize(("body", "status", "reason"), BAD_BODIES)
def test_bad_body(env, body, status, reason):
    r = env.client.post("/api/event", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    assert reason in r.json()["error"]
    assert env.stored() == []


def test_oversize_body_refused_by_content_length(env):
    body = json.dumps({"events": [{**GOOD, "p": {"k": "x" * 1900}}] * 600}).encode()
    assert len(body) > 1_000_000
    r = env.client.post("/api/event", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "larger than" in r.json()["error"]
    assert env.stored() == []


def test_oversize_chunked_body_refused_while_streaming(env):
    def chunks():
        yield b'{"events": ['
        for _ in range(20_000):
            yield json.dumps(GOOD).encode() + b","
        yield b"{}]}"

    r = env.client.post("/api/event", content=chunks(), headers={"content-type": "text/plain"})
    assert r.status_code == 413
    assert env.stored() == []


def test_wrong_content_type(env):
    r = env.client.post(
        "/api/event", content=b"<xml/>", headers={"content-type": "application/xml"}
    )
    assert r.status_code == 415 and r.json()["error"]


def test_batch_of_1000_accepted(env):
    events = [{**GOOD, "u": f"https://example.com/{i}"} for i in range(1000)]
    r = env.client.post("/api/event", json={"events": events})
    assert r.status_code == 202 and r.json()["accepted"] == 1000
    assert len(env.stored()) == 1000


def test_never_a_500_on_garbage(env):
    import random

    rng = random.Random(7)
    samples = [json.dumps(GOOD).encode(), json.dumps({"events": [GOOD, AFTER]}).encode()]
    alphabet = b'{}[]":,0123456789.eE-+ntrufalsu\\\x00\xff abc'
    for _ in range(150):
        base = bytearray(rng.choice(samples))
        for _ in range(rng.randint(1, 6)):
            pos = rng.randrange(len(base))
            base[pos] = rng.choice(alphabet)
        r = env.client.post(
            "/api/event", content=bytes(base), headers={"content-type": "text/plain"}
        )
        assert r.status_code < 500, (bytes(base), r.text)


def test_cors_preflight(env):
    r = env.client.options(
        "/api/event",
        headers={
            "origin": "https://example.com",
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "*"
    assert "POST" in r.headers["access-control-allow-methods"]
    assert "content-type" in r.headers["access-control-allow-headers"].lower()


def test_errors_also_carry_cors_headers(env):
    r = env.client.post("/api/event", content=b"{", headers={"origin": "https://example.com"})
    assert r.status_code == 400 and r.headers["access-control-allow-origin"] == "*"


def test_health_still_reports(env):
    r = env.client.get("/health")
    assert r.status_code == 200 and "queue_depth" in r.json()


def test_gzip_bodies_are_decoded_and_bounded(env):
    import gzip

    body = json.dumps({"events": [GOOD, AFTER]}).encode()
    ok = env.client.post(
        "/api/event",
        content=gzip.compress(body),
        headers={"content-type": "application/json", "content-encoding": "gzip"},
    )
    assert ok.status_code == 202, ok.text
    assert sorted(e.url for e in env.stored()) == [AFTER["url"], GOOD["u"]]
    bomb = gzip.compress(b" " * (3 * 1024 * 1024))  # ~3 KB on the wire, 3 MB inflated
    too_big = env.client.post(
        "/api/event",
        content=bomb,
        headers={"content-type": "application/json", "content-encoding": "gzip"},
    )
    assert too_big.status_code == 413
    assert "decompressed" in too_big.text
    broken = env.client.post(
        "/api/event",
        content=b"not gzip at all",
        headers={"content-type": "application/json", "content-encoding": "gzip"},
    )
    assert broken.status_code == 400
    other = env.client.post(
        "/api/event",
        content=body,
        headers={"content-type": "application/json", "content-encoding": "br"},
    )
    assert other.status_code == 415
