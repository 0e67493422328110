"""Tokens, sites and the `sites` / `token` CLI against a real SQLite file."""

from __future__ import annotations

import asyncio

from click.testing import CliRunner

from footfall.cli import main
from footfall.collector.directory import Directory
from footfall.stores import connect
from footfall.stores.meta import FailedEvent, Site, hash_token, open_meta


def _auth(secret):
    return {"authorization": f"Bearer {secret}"}


def test_token_may_set_trusted_fields(env):
    r = env.client.post(
        "/api/event",
        json={
            "name": "backfill",
            "site": "example.com",
            "ts": "2024-03-01T12:00:00Z",
            "visitor_id": "visitor-1",
            "user_id": "user-7",
            "user_agent": "backend/1.0",
            "url": "https://example.com/x",
        },
        headers=_auth(env.token),
    )
    assert r.status_code == 202, r.text
    [ev] = env.stored()
    assert ev.ts.isoformat() == "2024-03-01T12:00:00+00:00"
    assert ev.visitor_id == "visitor-1" and ev.user_id == "user-7"
    assert ev.user_agent == "backend/1.0" and ev.source == "api"


def test_epoch_ts_and_future_ts(env):
    r = env.client.post(
        "/api/event",
        json=[
            {"name": "a", "site": "example.com", "ts": 1_700_000_000},
            {"name": "b", "site": "example.com", "ts": "2999-01-01T00:00:00Z"},
        ],
        headers=_auth(env.token),
    )
    body = r.json()
    assert r.status_code == 202 and body["accepted"] == 1
    assert body["errors"][0]["field"] == "ts" and "future" in body["errors"][0]["reason"]
    assert env.stored()[0].ts.year == 2023


def test_site_token_defaults_and_restricts_site(env):
    r = env.client.post(
        "/api/event",
        json=[{"name": "ok"}, {"name": "elsewhere", "site": "example.com"}],
        headers=_auth(env.site_token),
    )
    assert r.status_code == 202
    body = r.json()
    assert body["accepted"] == 1
    assert body["errors"] == [
        {"index": 1, "field": "site", "reason": "the API token is not valid for this site"}
    ]
    [ev] = env.stored()
    assert ev.site == env.other and ev.name == "ok"


def test_only_wrong_site_is_403(env):
    r = env.client.post(
        "/api/event", json={"name": "x", "site": "example.com"}, headers=_auth(env.site_token)
    )
    assert r.status_code == 403


def test_bad_tokens_are_401(env):
    for header in ("Bearer ff_nope", "Basic abc", "Bearer ", "token"):
        r = env.client.post(
            "/api/event", json={"n": "x", "d": "example.com"}, headers={"authorization": header}
        )
        assert r.status_code == 401, header
        assert r.json()["error"]
    assert env.stored() == []


def test_revoked_token_refused_after_cache_refresh(env):
    meta = open_meta(env.store)
    [tok] = [t for t in meta.list_tokens() if t.name == "backend"]
    assert meta.revoke_token(tok.id)
    env.collector.directory.invalidate()
    r = env.client.post("/api/event", json={"n": "x", "d": "example.com"}, headers=_auth(env.token))
    assert r.status_code == 401


def test_unknown_site_alone_is_404(env):
    r = env.client.post("/api/event", json={"n": "x", "d": "nope.example"})
    assert r.status_code == 404 and "unknown site" in r.json()["errors"][0]["reason"]


def test_site_added_while_running_is_seen_after_ttl(env):
    r = env.client.post("/api/event", json={"n": "x", "d": "new.example"})
    assert r.status_code == 404
    open_meta(env.store).add_site(Site("new.example"))
    env.collector.directory.invalidate()  # what the TTL does within seconds
    r = env.client.post("/api/event", json={"n": "x", "d": "new.example"})
    assert r.status_code == 202


def test_directory_caches_within_ttl(tmp_path):
    store = connect(f"sqlite:///{tmp_path / 'd.db'}")
    meta = open_meta(store)
    now = [0.0]
    d = Directory(meta, ttl=5.0, clock=lambda: now[0])
    assert d.site("a.example") is None
    meta.add_site(Site("a.example"))
    assert d.site("a.example") is None  # cached miss, no query per event
    now[0] = 6.0
    assert d.site("a.example") is not None
    assert d.site("A.Example") is not None
    store.close()


def test_meta_contract(tmp_path):
    store = connect(f"sqlite:///{tmp_path / 'm.db'}")
    meta = open_meta(store)
    assert meta.add_site(Site("b.example", "Europe/Paris", True))
    assert not meta.add_site(Site("b.example", "UTC", False))
    assert meta.get_site("b.example").timezone == "Europe/Paris"
    assert meta.add_site(Site("a.example"))
    assert [s.domain for s in meta.list_sites()] == ["a.example", "b.example"]
    tok = meta.add_token("n", "a.example", hash_token("s3cret"), "ff_s3c")
    assert meta.active_tokens()[hash_token("s3cret")].id == tok.id
    assert tok.allows("a.example") and not tok.allows("b.example")
    assert meta.revoke_token(tok.id) and not meta.revoke_token(tok.id)
    assert meta.active_tokens() == {} and meta.list_tokens()[0].revoked
    from footfall.event import utcnow

    row = FailedEvent(
        0, utcnow(), "bad", '{"x": 1}', site="a.example", schema="iglu:a/b/jsonschema/1-0-0"
    )
    assert meta.add_failed([row, row]) == 2
    failed = meta.list_failed()
    assert [f.id for f in failed] == [1, 2] and failed[0].payload == '{"x": 1}'
    meta.set_failed_status(1, "recovered")
    assert [f.id for f in meta.list_failed()] == [2]
    assert meta.list_failed(None)[0].attempts == 2
    assert meta.list_failed(site="zzz") == []
    store.close()


def test_cli_sites_and_token(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    run = CliRunner().invoke
    r = run(main, ["sites", "add", "Shop.Example.com", "--timezone", "Europe/Berlin", "--db", url])
    assert r.exit_code == 0, r.output
    r = run(main, ["sites", "add", "shop.example.com", "--db", url])
    assert r.exit_code != 0 and "already exists" in r.output
    r = run(main, ["sites", "add", "shop.example.com", "--if-missing", "--db", url])
    assert r.exit_code == 0
    r = run(main, ["sites", "add", "x.example", "--timezone", "Mars/Base", "--db", url])
    assert r.exit_code != 0 and "time zone" in r.output
    r = run(main, ["sites", "list", "--db", url])
    assert "shop.example.com\tEurope/Berlin\tprivate" in r.output
    r = run(main, ["token", "create", "--name", "ci", "--site", "nope.example", "--db", url])
    assert r.exit_code != 0 and "unknown site" in r.output
    r = run(main, ["token", "create", "--name", "ci", "--site", "shop.example.com", "--db", url])
    assert r.exit_code == 0
    secret = r.output.strip().splitlines()[-1]
    assert secret.startswith("ff_") and len(secret) > 40
    store = connect(url)
    [(stored_hash,)] = store.query("SELECT token_hash FROM api_tokens")
    assert stored_hash == hash_token(secret) and secret not in stored_hash
    store.close()
    r = run(main, ["token", "list", "--db", url])
    assert "ci\tshop.example.com\tactive" in r.output and secret not in r.output


def test_demo_sites_registered(tmp_path):
    from footfall.demo_sites import register_demo_sites

    store = connect(f"sqlite:///{tmp_path / 'demo.db'}")
    register_demo_sites(store)
    register_demo_sites(store)  # idempotent
    sites = {s.domain: s for s in open_meta(store).list_sites()}
    assert set(sites) == {"demo.footfall.dev", "shop.example.com", "api.example.com"}
    assert sites["demo.footfall.dev"].public and not sites["api.example.com"].public
    store.close()


def test_store_without_meta_support_still_serves_but_refuses_events(tmp_path):
    import pytest

    from footfall.collector.ingest import Collector, Rejected
    from footfall.event import Event
    from footfall.server.state import ServerState
    from footfall.stores.sqlite import SQLiteStore
    from footfall.tracker import Tracker

    class NoMetaStore(SQLiteStore):  # a backend that has not implemented Meta yet
        holds_meta = False

    store = NoMetaStore(tmp_path / "n.db")
    state = ServerState(store=store, tracker=Tracker([]), db_url="nometa://")
    collector = Collector(state)
    result = collector.ingest([Event(name="x", site="a.example")], token=None, ip="", user_agent="")
    assert result.status() == 501 and "sites" in result.errors[0].reason
    with pytest.raises(Rejected) as exc:
        asyncio.run(collector.authenticate("Bearer ff_x"))
    assert exc.value.status == 501
    assert collector.store_failed("{}", "why") is False
    state.close()
