"""Failed events are bounded and private: rate limit per event, a byte budget per client,
the stored events' anonymisation, retention and erasure."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from footfall.cli import main
from footfall.collector.failed import FailedWriter
from footfall.collector.limits import RateLimiter
from footfall.collector.snowplow_protocol import hashed_id
from footfall.event import Event
from footfall.processors.defaults import default_processors
from footfall.stores import connect
from footfall.stores.meta import FailedEvent, open_meta

from .conftest import SITE, Env

TP2 = "/com.snowplowanalytics.snowplow/tp2"
ENVELOPE = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"
UNSTRUCT = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
UNKNOWN = "iglu:com.acme/not_in_the_folder/jsonschema/1-0-0"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
CLIENT_IP = "203.0.113.9"  # the test client's address (tests/collector/conftest.py)
RAW_IP = "198.51.100.77"  # an `ip` parameter a tracker sent


def _envelope(events: list[Any]) -> dict[str, Any]:
    return {"schema": ENVELOPE, "data": events}


def _pv(i: int, **extra: str) -> dict[str, str]:
    return {"e": "pv", "p": "web", "tv": "js-3", "aid": SITE, "url": f"https://example.com/{i}"} | (
        extra
    )


def _unknown_ue(**extra: str) -> dict[str, str]:
    ue = {"schema": UNSTRUCT, "data": {"schema": UNKNOWN, "data": {"sku": "a"}}}
    return {"e": "ue", "p": "web", "tv": "js-3", "aid": SITE, "ue_pr": json.dumps(ue), **extra}


def _strict(make_env: Any, tmp_path: Path, **env: str) -> Env:
    folder = tmp_path / "schemas"
    folder.mkdir(exist_ok=True)
    settings = {
        "FOOTFALL_RATE_LIMIT": "off",
        "FOOTFALL_SCHEMAS": str(folder),
        "FOOTFALL_SCHEMAS_STRICT": "1",
    }
    made: Env = make_env(**{**settings, **env})
    return made


# -- the rate limit is charged per event ---------------------------------------------


def test_snowplow_post_charges_the_rate_limit_per_event(make_env: Any) -> None:
    env = make_env(FOOTFALL_RATE_LIMIT="1/5")
    r = env.client.post(TP2, json=_envelope([_pv(i) for i in range(4)]))
    assert r.status_code == 200, r.text
    r = env.client.post(TP2, json=_envelope([_pv(i) for i in range(4, 8)]))
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert len(env.stored()) == 4


def test_a_batch_bigger_than_the_burst_is_taken_once_then_paid_for(make_env: Any) -> None:
    env = make_env(FOOTFALL_RATE_LIMIT="1/5")
    r = env.client.post(TP2, json=_envelope([_pv(i) for i in range(8)]))
    assert r.status_code == 200, r.text  # never refused for ever for its size
    r = env.client.post(TP2, json=_envelope([_pv(9)]))
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 3
    ok = {"n": "pageview", "d": SITE, "u": "https://example.com/"}
    assert env.client.post("/api/event", json=ok).status_code == 429  # one bucket per address
    assert len(env.stored()) == 8


def test_rate_limiter_debt_is_earned_back() -> None:
    now = [0.0]
    limiter = RateLimiter(rate=1, burst=5, clock=lambda: now[0])
    assert limiter.take("a", 8) == 0  # a full bucket pays a cost above the burst
    assert limiter.take("a") == pytest.approx(4.0)  # 3 in debt, 1 more to pay
    now[0] = 3.9
    assert limiter.take("a") > 0
    now[0] = 4.0
    assert limiter.take("a") == 0
    assert limiter.take("b", 1) == 0
    assert limiter.take("b", 8) == pytest.approx(1.0)  # only a full bucket goes into debt
    assert limiter.take("c", 1) == 0  # a batch endpoint's charge before reading the body
    assert limiter.take("c", 7, paid=1) == 0  # the rest: the bucket was full for the request


# -- a byte budget per client ----------------------------------------------------------


def test_failed_event_bytes_are_capped_per_client(make_env: Any, tmp_path: Path) -> None:
    budget = 6_000
    env = _strict(
        make_env, tmp_path, FOOTFALL_FAILED_BYTES=str(budget), FOOTFALL_TRUSTED_PROXIES="1"
    )
    failing = {"n": "thing", "d": SITE, "schema": UNKNOWN, "props": {"blob": "x" * 900}}

    def send(client: str, n: int, **headers: str) -> dict[str, Any]:
        r = env.client.post("/api/event", json=[failing] * n, headers={"x-forwarded-for": client})
        assert r.status_code in (202, 422), r.text
        body: dict[str, Any] = r.json()
        return body

    first = send("198.51.100.1", 20)
    kept = first.get("failed", 0)
    assert 1 <= kept < 20
    dropped = [e for e in first["errors"] if not e.get("kept")]
    assert len(dropped) == 20 - kept
    assert all("not kept" in e["reason"] and "unknown" in e["reason"] for e in dropped)
    assert send("198.51.100.1", 1).get("failed", 0) == 0  # still over its budget
    assert send("198.51.100.2", 1)["failed"] == 1  # another client has its own budget
    r = env.client.post(
        "/api/event", json=[failing] * 20, headers={"authorization": f"Bearer {env.token}"}
    )
    assert r.json()["failed"] == 20  # a token's sender is not capped, as it is not rate limited

    # Malformed Snowplow events are charged to the same budget.
    bad = {"e": "ue", "p": "web", "tv": "js-3", "aid": SITE, "ue_px": "*" * 900}
    for _ in range(5):
        r = env.client.post(
            TP2, json=_envelope([bad] * 10), headers={"x-forwarded-for": "198.51.100.3"}
        )
        assert r.status_code == 400
    env.flush()
    rows = open_meta(env.store).list_failed(limit=1000)
    assert env.collector.failed is not None and env.collector.failed.over_budget > 0
    malformed = [r for r in rows if r.source == "snowplow"]
    assert 1 <= len(malformed) < 50
    assert sum(len(r.payload) + len(r.event) for r in malformed) <= budget
    assert len(rows) == kept + 1 + 20 + len(malformed)


# -- the same anonymisation as stored events -------------------------------------------


def test_failed_events_are_anonymised_like_stored_events(make_env: Any, tmp_path: Path) -> None:
    env = _strict(make_env, tmp_path)
    ids = {"duid": "raw-cookie-duid-1", "sid": "raw-session-1"}
    r = env.client.post(
        TP2,
        json=_envelope(
            [
                _unknown_ue(ip=RAW_IP, ua=CHROME, **ids),  # fails its schema: event kept
                {**_unknown_ue(), "ue_pr": "{oops", "ip": RAW_IP, **ids},  # malformed: payload
                _pv(1, **ids),  # stored normally
            ]
        ),
        headers={"user-agent": CHROME, "origin": "https://example.com"},
    )
    assert r.status_code == 400, r.text  # the malformed one is refused, the others are kept
    api = {"n": "thing", "d": SITE, "schema": UNKNOWN, "props": {"a": 1}}
    r = env.client.post("/api/event", json=api, headers={"user-agent": CHROME})
    assert r.json()["failed"] == 1
    pageview = {"n": "pageview", "d": SITE, "u": "https://example.com/cookieless"}
    r = env.client.post("/api/event", json=pageview, headers={"user-agent": CHROME})
    assert r.json()["accepted"] == 1

    stored = {e.url: e for e in env.stored()}
    rows = open_meta(env.store).list_failed(limit=100)
    assert len(rows) == 3
    for row in rows:
        kept = row.payload + row.event
        for secret in (CLIENT_IP, RAW_IP, *ids.values()):
            assert secret not in kept, (secret, row)

    visitor = hashed_id(SITE, ids["duid"])
    assert stored["https://example.com/1"].visitor_id == visitor
    [sp_kept] = [r for r in rows if r.source == "snowplow" and r.event]
    event = json.loads(sp_kept.event)
    assert "ip" not in event and event["visitor_id"] == visitor == sp_kept.visitor_id
    assert event["browser"] == "Chrome"  # enriched, then anonymised
    assert json.loads(sp_kept.payload)["duid"] == visitor  # the pseudonym, not the cookie
    assert json.loads(sp_kept.payload)["ua"] == CHROME  # user agents are kept by default
    [malformed] = [r for r in rows if r.source == "snowplow" and not r.event]
    assert malformed.visitor_id == visitor and "ip" not in json.loads(malformed.payload)
    [from_api] = [r for r in rows if r.source != "snowplow"]
    assert from_api.visitor_id == stored["https://example.com/cookieless"].visitor_id != ""
    assert "ip" not in json.loads(from_api.event)


def test_failed_writer_applies_the_chains_ip_mode_and_user_agent_rule(tmp_path: Path) -> None:
    store = connect(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        meta = open_meta(store)
        chain = default_processors(store, geo=False, ip="truncate", drop_user_agent=True)
        writer = FailedWriter(meta, chain)
        event = Event(name="x", site=SITE, ip=RAW_IP, user_agent=CHROME, source="snowplow")
        payload = {"aid": SITE, "ip": RAW_IP, "ua": CHROME, "tnuid": "raw-network-id"} | {
            "nuid": 42,  # a number, as some POST trackers send: read as text, hashed alike
            "sid": {"not": "an id"},
        }
        assert writer.add(payload, "why", event=event) is None
        assert writer.flush(10)
        [row] = meta.list_failed()
        kept, built = json.loads(row.payload), json.loads(row.event)
        assert kept["ip"] == built["ip"] == "198.51.100.0"
        assert "ua" not in kept and "user_agent" not in built
        assert built["browser"] == "Chrome"  # parsed before the agent was dropped
        assert kept["tnuid"] == hashed_id(SITE, "raw-network-id")
        assert kept["nuid"] == hashed_id(SITE, "42") and "sid" not in kept
        assert row.visitor_id == built["visitor_id"] != ""  # the cookieless id, from the raw IP
        writer.close()
    finally:
        store.close()


# -- retention and erasure ---------------------------------------------------------------


def test_purge_older_than_deletes_old_failed_events(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    store = connect(url)
    meta = open_meta(store)
    now = datetime.now(timezone.utc)
    old, recent = now - timedelta(days=40), now - timedelta(days=1)
    meta.add_failed(
        [
            FailedEvent(0, old, "old", "{}", site=SITE),
            FailedEvent(0, old, "old, recovered", "{}", site=SITE, status="recovered"),
            FailedEvent(0, recent, "recent", "{}", site=SITE),
            FailedEvent(0, old, "old, other site", "{}", site="other.example"),
        ]
    )
    out = CliRunner().invoke(
        main, ["purge", "--db", url, "--older-than", "30", "--site", SITE, "--yes"]
    )
    assert out.exit_code == 0, out.output
    assert "deleted 2 failed events" in out.output
    assert [r.reason for r in meta.list_failed(None, 100)] == ["recent", "old, other site"]
    out = CliRunner().invoke(main, ["purge", "--db", url, "--older-than", "30", "--yes"])
    assert "deleted 1 failed events" in out.output
    store.close()


def test_delete_visitor_deletes_that_visitors_failed_events(make_env: Any, tmp_path: Path) -> None:
    env = _strict(make_env, tmp_path)
    for duid in ("visitor-a", "visitor-b"):
        r = env.client.post(TP2, json=_envelope([_unknown_ue(duid=duid), _pv(1, duid=duid)]))
        assert r.status_code == 200, r.text
    r = env.client.post(TP2, json=_envelope([{**_unknown_ue(duid="visitor-a"), "ue_pr": "{oops"}]))
    assert r.status_code == 400
    api = {"n": "thing", "d": SITE, "schema": UNKNOWN, "props": {"a": 1}}
    pageview = {"n": "pageview", "d": SITE, "u": "https://example.com/cookieless"}
    env.client.post("/api/event", json=[api, pageview], headers={"user-agent": CHROME})
    events = env.stored()
    assert len(open_meta(env.store).list_failed(limit=100)) == 4
    url = env.state.db_url

    a = hashed_id(SITE, "visitor-a")
    out = CliRunner().invoke(main, ["delete-visitor", "--db", url, a, "--yes"])
    assert out.exit_code == 0, out.output
    assert f"deleted 1 events of visitor {a}" in out.output
    assert f"deleted 2 failed events of visitor {a}" in out.output
    left = open_meta(env.store).list_failed(limit=100)
    assert hashed_id(SITE, "visitor-b") in {r.visitor_id for r in left} and len(left) == 2

    [cookieless] = [e.visitor_id for e in events if e.url == "https://example.com/cookieless"]
    out = CliRunner().invoke(main, ["delete-visitor", "--db", url, cookieless, "--yes"])
    assert "deleted 1 events" in out.output and "deleted 1 failed events" in out.output
    assert [r.visitor_id for r in open_meta(env.store).list_failed(limit=100)] == [
        hashed_id(SITE, "visitor-b")
    ]
