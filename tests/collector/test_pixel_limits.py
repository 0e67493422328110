"""The pixel, the per-IP rate limit, trusted proxies and page-view dedupe."""

from __future__ import annotations

from footfall.clientip import client_ip
from footfall.collector import limits
from footfall.collector.http import GIF
from footfall.collector.limits import Deduper, RateLimiter, rate_key


def test_pixel_stores_a_pageview(env):
    r = env.client.get(
        "/api/event.gif",
        params={
            "site": "example.com",
            "url": "https://example.com/np",
            "ref": "https://a.example/",
        },
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/gif" and r.content == GIF
    assert "no-store" in r.headers["cache-control"]
    [ev] = env.stored()
    assert ev.name == "pageview" and ev.url == "https://example.com/np"
    assert ev.referrer == "https://a.example/" and ev.source == "browser"


def test_pixel_takes_url_from_referer_header(env):
    r = env.client.get(
        "/api/event.gif?site=example.com", headers={"referer": "https://example.com/from-img"}
    )
    assert r.status_code == 200
    assert env.stored()[0].url == "https://example.com/from-img"


def test_pixel_bad_input_is_4xx(env):
    for params, status in (
        ({"site": "nope.example", "url": "https://nope.example/"}, 404),
        ({"url": "https://example.com/"}, 400),
        ({"site": "example.com", "url": "javascript:alert(1)"}, 400),
        ({"site": "example.com", "url": "https://example.com/" + "x" * 5000}, 400),
        ({"site": "example.com", "url": "https://example.com/", "n": "a\x00b"}, 400),
    ):
        r = env.client.get("/api/event.gif", params=params)
        assert r.status_code == status, (params, r.text)
        assert r.json()
    r = env.client.get("/api/event.gif?site=example.com&url=https://example.com/%FF%FE")
    assert r.status_code == 400 and "UTF-8" in r.json()["error"]
    r = env.client.get("/api/event.gif?site=example.com&title=" + "x" * 20_000)
    assert r.status_code == 400 and "too long" in r.json()["error"]
    assert env.stored() == []


def test_rate_limit_429_with_retry_after(make_env):
    env = make_env(FOOTFALL_RATE_LIMIT="0.5/3")
    ok = {"n": "pageview", "d": "example.com", "u": "https://example.com/"}
    codes = [env.client.post("/api/event", json=ok).status_code for _ in range(5)]
    assert codes == [202, 202, 202, 429, 429]
    r = env.client.post("/api/event", json=ok, headers={"x-forwarded-for": "198.51.100.1"})
    assert r.status_code == 429  # X-Forwarded-For is not trusted by default
    assert int(r.headers["retry-after"]) >= 1 and r.json()["error"]
    r = env.client.get("/api/event.gif?site=example.com&url=https://example.com/")
    assert r.status_code == 429
    # A valid token is not limited by IP.
    r = env.client.post("/api/event", json=ok, headers={"authorization": f"Bearer {env.token}"})
    assert r.status_code == 202
    assert len(env.stored()) == 4


def test_trusted_proxy_uses_forwarded_for(make_env):
    env = make_env(FOOTFALL_RATE_LIMIT="0.5/1", FOOTFALL_TRUSTED_PROXIES="1")
    ok = {"n": "pageview", "d": "example.com", "u": "https://example.com/"}
    for ip in ("198.51.100.1", "198.51.100.2"):
        r = env.client.post("/api/event", json=ok, headers={"x-forwarded-for": f"6.6.6.6, {ip}"})
        assert r.status_code == 202
    r = env.client.post("/api/event", json=ok, headers={"x-forwarded-for": "198.51.100.2"})
    assert r.status_code == 429
    visitors = {e.visitor_id for e in env.stored()}
    assert len(visitors) == 2  # two client IPs, two cookieless visitors


def test_dedupe_off_by_default(env):
    ok = {"n": "pageview", "d": "example.com", "u": "https://example.com/"}
    for _ in range(3):
        assert env.client.post("/api/event", json=ok).status_code == 202
    assert len(env.stored()) == 3


def test_dedupe_identical_anonymous_pageviews(make_env):
    env = make_env(FOOTFALL_RATE_LIMIT="off", FOOTFALL_DEDUPE_SECONDS="60")
    ok = {"n": "pageview", "d": "example.com", "u": "https://example.com/"}
    bodies = [env.client.post("/api/event", json=ok).json() for _ in range(3)]
    assert bodies[0] == {"accepted": 1, "rejected": 0}
    assert bodies[2] == {"accepted": 0, "rejected": 0, "deduplicated": 1}
    env.client.post("/api/event", json={**ok, "u": "https://example.com/other"})
    env.client.post("/api/event", json={**ok, "n": "click"})
    env.client.post("/api/event", json={**ok, "n": "click"})
    assert len(env.stored()) == 4


def test_rate_limiter_refills():
    now = [0.0]
    rl = RateLimiter(rate=2, burst=2, clock=lambda: now[0])
    assert rl.take("a") == 0 and rl.take("a") == 0
    assert rl.take("a") > 0 and rl.take("b") == 0
    now[0] = 0.5
    assert rl.take("a") == 0 and rl.take("a") > 0
    assert RateLimiter(0, 0).take("x") == 0  # disabled


def test_deduper_window():
    now = [0.0]
    d = Deduper(10, clock=lambda: now[0])
    assert not d.seen("s", "ip", "ua", "u") and d.seen("s", "ip", "ua", "u")
    now[0] = 11
    assert not d.seen("s", "ip", "ua", "u")


def test_a_full_rate_limiter_still_remembers_the_key_it_just_refused(monkeypatch):
    """A table full of other addresses evicts the least recently seen, not everyone."""
    monkeypatch.setattr(limits, "MAX_TRACKED", 4)
    rl = RateLimiter(rate=1, burst=1, clock=lambda: 0.0)  # the clock stands still: no refill
    for key in ("a", "b", "c"):
        rl.take(key)
    assert rl.take("abuser") == 0 and rl.take("abuser") > 0  # the table is full, "abuser" refused
    assert rl.take("new") == 0  # a fifth address: one must go
    assert rl.take("abuser") > 0  # still refused: "a", the least recently seen, went
    assert rl.take("a") == 0  # forgotten, so a fresh bucket


def test_a_full_deduper_still_remembers_the_newest_views(monkeypatch):
    monkeypatch.setattr(limits, "MAX_TRACKED", 3)
    d = Deduper(60, clock=lambda: 0.0)
    for url in ("u1", "u2", "u3"):
        assert not d.seen("s", "ip", "ua", url)
    assert not d.seen("s", "ip", "ua", "u4")  # full: the oldest view is let go
    assert d.seen("s", "ip", "ua", "u3") and d.seen("s", "ip", "ua", "u4")


def test_client_ip():
    assert client_ip("10.0.0.1", "1.1.1.1", 0) == "10.0.0.1"
    assert client_ip("10.0.0.1", "9.9.9.9, 1.1.1.1", 1) == "1.1.1.1"
    assert client_ip("10.0.0.1", "9.9.9.9, 1.1.1.1, 10.0.0.2", 2) == "1.1.1.1"
    assert client_ip("10.0.0.1", "1.1.1.1", 3) == "1.1.1.1"
    assert client_ip("10.0.0.1", None, 1) == "10.0.0.1"


def test_rate_key_groups_ipv6_by_64():
    assert rate_key("203.0.113.9") == "203.0.113.9"
    assert rate_key("2001:db8:1:2:aaaa::1") == rate_key("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::"
    assert rate_key("2001:db8:1:3::1") != rate_key("2001:db8:1:2::1")
    assert rate_key("not:an:ip") == "not:an:ip"


def test_anonymous_batches_cost_a_token_per_event(make_env):
    env = make_env(FOOTFALL_RATE_LIMIT="1/5")
    ok = {"n": "pageview", "d": "example.com", "u": "https://example.com/"}
    r = env.client.post("/api/event", json=[ok] * 4)
    assert r.status_code == 202 and r.json()["accepted"] == 4
    r = env.client.post("/api/event", json=[ok] * 4)
    assert r.status_code == 429
    r = env.client.post(
        "/api/event", json=[ok] * 50, headers={"authorization": f"Bearer {env.token}"}
    )
    assert r.status_code == 202
