"""The collector's client address behind proxies (the rule is `footfall.clientip`'s)."""

from __future__ import annotations

PAGE = {"n": "pageview", "d": "example.com", "u": "https://example.com/"}
PIXEL = "/api/event.gif?site=example.com&url=https://example.com/"


def test_a_proxy_added_header_line_is_the_one_believed(make_env):
    """A client's own X-Forwarded-For line cannot stand in for the line our proxy added."""
    env = make_env(FOOTFALL_RATE_LIMIT="0.5/1", FOOTFALL_TRUSTED_PROXIES="1")

    def lines(forged: str) -> list[tuple[str, str]]:
        return [("x-forwarded-for", forged), ("x-forwarded-for", "198.51.100.77")]

    assert env.client.post("/api/event", json=PAGE, headers=lines("6.6.6.1")).status_code == 202
    # Same client, another forged first line: still the same bucket, now empty.
    assert env.client.post("/api/event", json=PAGE, headers=lines("6.6.6.2")).status_code == 429
    assert env.client.get(PIXEL, headers=lines("6.6.6.3")).status_code == 429
