"""Sites/tokens/failed events (`Meta`) and processor state on every SQL store.

Store-agnostic: the same tests run on SQLite and PostgreSQL. (ClickHouse keeps
events only; docs/stores.md says where its metadata lives.)
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from tests.stores.backends import postgres_store

from footfall import connect
from footfall.processors.state import VisitState, state_for
from footfall.stores.meta import FailedEvent, SavedGoal, Site, goal_name, open_meta
from footfall.stores.migrate import load_migrations


def _sqlite(tmp_path: Path) -> Any:
    return connect(f"sqlite:///{tmp_path / 'meta.db'}")


FACTORIES = {"sqlite": _sqlite, "postgres": postgres_store}


@pytest.fixture(params=sorted(FACTORIES))
def sql_store(request: Any, tmp_path: Path) -> Iterator[Any]:
    store = FACTORIES[request.param](tmp_path)
    yield store
    store.close()


def test_sites(sql_store: Any) -> None:
    meta = open_meta(sql_store)
    assert meta.add_site(Site("b.test", "Europe/Berlin", True))
    assert meta.add_site(Site("a.test"))
    assert not meta.add_site(Site("a.test", "Asia/Tokyo"))
    site = meta.get_site("b.test")
    assert site is not None and (site.timezone, site.public) == ("Europe/Berlin", True)
    assert meta.get_site("nope.test") is None
    assert [s.domain for s in meta.list_sites()] == ["a.test", "b.test"]
    assert meta.get_site("a.test").timezone == "UTC"  # type: ignore[union-attr]


def test_tokens(sql_store: Any) -> None:
    meta = open_meta(sql_store)
    t1 = meta.add_token("ci", "a.test", "hash1", "ff_abc")
    t2 = meta.add_token("all", "", "hash2", "ff_def")
    assert t2.id > t1.id
    assert [t.name for t in meta.list_tokens()] == ["ci", "all"]
    assert set(meta.active_tokens()) == {"hash1", "hash2"}
    assert meta.revoke_token(t1.id) and not meta.revoke_token(t1.id)
    assert set(meta.active_tokens()) == {"hash2"}
    assert meta.active_tokens()["hash2"].allows("any.test")


def test_failed_events(sql_store: Any) -> None:
    meta = open_meta(sql_store)
    ts = datetime(2026, 10, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)
    rows = [FailedEvent(0, ts, f"bad {i}", "{}", site=f"s{i % 2}") for i in range(3)]
    assert meta.add_failed(rows) == 3
    failed = meta.list_failed()
    assert [f.reason for f in failed] == ["bad 0", "bad 1", "bad 2"] and failed[0].ts == ts
    assert [f.reason for f in meta.list_failed(site="s1")] == ["bad 1"]
    meta.set_failed_status(failed[0].id, "recovered")
    assert [f.reason for f in meta.list_failed()] == ["bad 1", "bad 2"]
    (done,) = meta.list_failed(status="recovered")
    assert done.attempts == 2 and done.reason == "bad 0"
    assert len(meta.list_failed(status=None, limit=2)) == 2


def test_failed_events_retention_and_erasure(sql_store: Any) -> None:
    meta = open_meta(sql_store)
    old = datetime(2026, 1, 1, tzinfo=timezone.utc)
    new = datetime(2026, 3, 1, tzinfo=timezone.utc)
    meta.add_failed(
        [
            FailedEvent(0, old, "old a", "{}", site="a.test", visitor_id="v1"),
            FailedEvent(0, old, "old b", "{}", site="b.test", visitor_id="v1"),
            FailedEvent(0, new, "new a", "{}", site="a.test", visitor_id="v2", status="recovered"),
            FailedEvent(0, new, "new b", "{}", site="b.test"),
        ]
    )
    assert [f.visitor_id for f in meta.list_failed(None)] == ["v1", "v1", "v2", ""]
    assert meta.delete_failed_visitor("v1", site="b.test") == 1
    assert meta.delete_failed_visitor("") == 0  # no visitor known is not a visitor
    assert meta.delete_failed_visitor("v2") == 1  # whatever its status
    cutoff = datetime(2026, 2, 1, tzinfo=timezone.utc)
    assert meta.purge_failed(cutoff, site="b.test") == 0
    assert meta.purge_failed(cutoff) == 1
    assert [f.reason for f in meta.list_failed(None)] == ["new b"]


def test_failed_events_kept_before_the_visitor_column_get_their_events_visitor(
    sql_store: Any,
) -> None:
    """The migration's backfill: the visitor id of the built event, "" for anything else."""
    meta = open_meta(sql_store)
    ts = datetime(2026, 1, 1, tzinfo=timezone.utc)
    meta.add_failed(
        [
            FailedEvent(0, ts, "built", "{}", event='{"name":"x","visitor_id":"v9"}'),
            FailedEvent(0, ts, "no id", "{}", event='{"name":"x","props":{"visitor_id":"p"}}'),
            FailedEvent(0, ts, "broken", "{}", event="{not json"),
            FailedEvent(0, ts, "payload only", '{"duid":"x"}'),
        ]
    )
    [migration] = [
        m for m in load_migrations(sql_store.dialect) if m.name == "failed_events_visitor"
    ]
    backfill = [
        s for s in migration.statements if not s.upper().startswith(("ALTER", "CREATE INDEX"))
    ]
    with sql_store.transaction() as conn:
        cur = conn.cursor()
        for statement in backfill:
            cur.execute(statement)
    assert [f.visitor_id for f in meta.list_failed()] == ["v9", "", "", ""]


def test_goals(sql_store: Any) -> None:
    meta = open_meta(sql_store)
    assert meta.add_site(Site("a.test"))
    pricing = SavedGoal("a.test", "Visit /pricing", page="/pricing")
    stored = meta.add_goal(pricing)
    assert stored is not None and stored.id > 0 and stored.created_at is not None
    assert (stored.name, stored.page, stored.kind) == ("Visit /pricing", "/pricing", "page")
    assert meta.add_goal(SavedGoal("a.test", "Visit /pricing", page="/other")) is None
    signup = SavedGoal("a.test", "Signup", event="Signup", prop_key="plan", prop_value="pro")
    paid = SavedGoal("a.test", "Purchase", event="Purchase", revenue_prop="amount", currency="EUR")
    assert meta.add_goal(signup) is not None and meta.add_goal(paid) is not None
    assert meta.add_goal(SavedGoal("b.test", "Signup", event="Signup")) is not None
    goals = meta.list_goals("a.test")
    assert [g.name for g in goals] == ["Purchase", "Signup", "Visit /pricing"]
    assert goals[0].kind == "event" and (goals[0].revenue_prop, goals[0].currency) == (
        "amount",
        "EUR",
    )
    assert (goals[1].event, goals[1].prop_key, goals[1].prop_value) == ("Signup", "plan", "pro")
    assert meta.remove_goal("a.test", "Purchase") and not meta.remove_goal("a.test", "Purchase")
    assert [g.name for g in meta.list_goals("a.test")] == ["Signup", "Visit /pricing"]
    meta.remove_site("a.test")
    assert meta.list_goals("a.test") == []
    assert [g.name for g in meta.list_goals("b.test")] == ["Signup"]
    assert meta.add_site(Site("a.test"))
    assert meta.list_goals("a.test") == []  # a site added again starts without goals


def test_goal_names_follow_plausible() -> None:
    page = SavedGoal("a.test", "", page="/blog/**")
    assert goal_name(page) == "Visit /blog/**"
    pro = SavedGoal("a.test", "", event="Signup", prop_key="plan", prop_value="pro")
    assert goal_name(pro) == "Signup"
    taken = [SavedGoal("a.test", "Signup", event="Signup")]
    assert goal_name(pro, taken) == "Signup (plan=pro)"


def test_processor_state(sql_store: Any) -> None:
    state = state_for(sql_store)
    assert type(state).__name__ != "MemoryState"
    salt = state.salt("2026-10-01")
    assert len(salt) == 32 and state.salt("2026-10-01") == salt
    assert state.salt("2026-10-02") != salt
    assert state.prune_salts("2026-10-02") == 1
    key, other = ("a.test", "v1"), ("a.test", "v2")
    first = VisitState("x1", 10, 20)
    with state.visits() as tx:
        assert tx.load([key]) == {}
        assert tx.replace(key, None, first)
        assert not tx.replace(key, None, first)  # present now
        assert not tx.replace(key, VisitState("zz", 1, 2), VisitState("x2", 10, 30))
        assert tx.replace(key, first, VisitState("x1", 10, 30))
        tx.store(other, VisitState("y1", 5, 6))
    with state.visits() as tx:
        assert tx.load([key, other, ("b.test", "v1")]) == {
            key: VisitState("x1", 10, 30),
            other: VisitState("y1", 5, 6),
        }
        assert tx.prune(7) == 1
        assert list(tx.load([key, other])) == [key]
