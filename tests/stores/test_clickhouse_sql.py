"""The ClickHouse store's SQL stays valid on current ClickHouse (chDB, in process).

The contract suite runs it on Debian's clickhouse-server (18.16); here the very
same DDL and statements - parameters substituted by clickhouse-driver exactly
as it does on the wire - run through chDB, and must give the same answers.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

chdb_session = pytest.importorskip("chdb.session", reason="chdb is a dev dependency")
clickhouse_driver = pytest.importorskip("clickhouse_driver")

from tests.stores.test_stats_backends import JSON_CASES  # noqa: E402

from footfall import Event  # noqa: E402
from footfall.stores import EventFilter  # noqa: E402
from footfall.stores.ch_sql import (  # noqa: E402
    ANY_IN_RANGE,
    COUNT,
    EXISTING_IDS,
    INSERT,
    SELECT_PAGE,
    delete_sql,
    insert_sql,
    retention_ttl_sql,
)
from footfall.stores.ch_views import migration_statements  # noqa: E402
from footfall.stores.migrate import load_migrations  # noqa: E402
from footfall.stores.rows import COLUMNS, row_encoder, to_micros  # noqa: E402
from footfall.stores.sqltext import PYFORMAT, events_condition, events_where  # noqa: E402

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=timezone.utc)
_client = clickhouse_driver.Client("127.0.0.1")
_encode = row_encoder(ts=to_micros, boolean=int)


def _sql(query: str, params: dict[str, Any] | None = None) -> str:
    if not params:
        return query
    return str(_client.substitute_params(query, params, _client.connection.context))


class Chdb:
    def __init__(self, path: Path) -> None:
        self.session = chdb_session.Session(str(path))

    def run(self, query: str, params: dict[str, Any] | None = None) -> list[list[str]]:
        out = self.session.query(_sql(query, params), "TabSeparated")
        text = out.bytes().decode() if hasattr(out, "bytes") else str(out)
        return [line.split("\t") for line in text.splitlines() if line]

    def close(self) -> None:
        self.session.close()


@pytest.fixture
def ch(tmp_path: Path) -> Any:
    db = Chdb(tmp_path / "chdb")
    for migration in load_migrations("clickhouse"):
        for stmt in migration_statements(migration):
            db.run(stmt)
    yield db
    db.close()


def _insert(ch: Chdb, events: list[Event]) -> None:
    rows = ", ".join(
        "(" + ", ".join(_sql("%(v)s", {"v": v}) for v in _encode(e)) + ")" for e in events
    )
    ch.run(INSERT + " " + rows)


def _events() -> list[Event]:
    return [
        Event(
            name="pageview",
            ts=T0 + timedelta(minutes=i),
            site="a.com" if i % 2 else "b.com",
            visitor_id=f"v{i % 3}",
            path=f"/p{i}",
            props={"i": i},
        )
        for i in range(10)
    ]


def test_migrations_and_statements_run_on_current_clickhouse(ch: Chdb) -> None:
    events = _events()
    _insert(ch, events)
    assert ch.run(COUNT.format(where=""))[0][0] == "10"

    where, params = events_where(
        T0 + timedelta(minutes=2), T0 + timedelta(minutes=6), None, PYFORMAT
    )
    assert ch.run(COUNT.format(where=where), params)[0][0] == "4"

    where, params = events_where(None, None, EventFilter(site="a.com", visitor_id="v1"), PYFORMAT)
    params.update(limit=2, offset=1)
    page = ch.run(SELECT_PAGE.format(where=where), params)
    # a.com has odd i; v1 has i % 3 == 1: i = 1, 7 -> newest first, second page of one
    assert [r[COLUMNS.index("path")] for r in page] == ["/p1"]

    ch.run("CREATE TABLE _batch (id String) ENGINE = Memory")
    ch.run(
        "INSERT INTO _batch VALUES " + ", ".join(_sql("(%(i)s)", {"i": e.id}) for e in events[:4])
    )
    lo, hi = to_micros(events[0].ts), to_micros(events[3].ts)
    found = ch.run(EXISTING_IDS, {"sites": ("a.com", "b.com"), "lo": lo, "hi": hi})
    assert sorted(r[0] for r in found) == sorted(e.id for e in events[:4])
    assert ch.run(ANY_IN_RANGE, {"sites": ("a.com",), "lo": lo, "hi": hi})[0][0] == "2"
    after = {"sites": ("a.com", "b.com"), "lo": to_micros(events[-1].ts) + 1, "hi": 2 * hi}
    assert ch.run(ANY_IN_RANGE, after)[0][0] == "0"

    where, params = events_condition(
        None, T0 + timedelta(minutes=5), EventFilter(site="b.com"), PYFORMAT
    )
    ch.run("SET mutations_sync = 2")  # the store polls system.mutations instead (18.16)
    ch.run(delete_sql(where), params)
    assert ch.run(COUNT.format(where=""))[0][0] == "7"  # b.com had i = 0, 2, 4 before 5 min


def test_retention_ttl_is_valid_on_current_clickhouse(ch: Chdb) -> None:
    ch.run(retention_ttl_sql(30))
    ddl = ch.run("SELECT create_table_query FROM system.tables WHERE name = 'events'")[0][0]
    assert "TTL" in ddl and "30" in ddl


def test_insert_of_some_columns_fills_the_defaults(ch: Chdb) -> None:
    values = {"id": "e1", "ts": to_micros(T0), "site": "a.com", "name": "pageview"}
    row = "(" + ", ".join(_sql("%(v)s", {"v": v}) for v in values.values()) + ")"
    ch.run(insert_sql(list(values)) + " " + row)
    got = ch.run("SELECT path, status, is_bot, props FROM events WHERE id = 'e1'")
    assert got == [["", "0", "0", "{}"]]
    with pytest.raises(ValueError):
        insert_sql(["id", "nope"])


@pytest.mark.parametrize("version", [(18, 16), (99,)], ids=["18.16-spelling", "current-spelling"])
def test_json_text_matches_sqlite(ch: Chdb, version: tuple[int, ...]) -> None:
    """event:props:<key> values: both ClickHouse spellings render what SQLite renders."""
    import sqlite3

    from footfall.stats.dialect import Params, SQLiteDialect
    from footfall.stats.dialect_clickhouse import ClickHouseDialect

    lite = sqlite3.connect(":memory:")
    sp = Params(SQLiteDialect())
    sql = f"SELECT {SQLiteDialect().json_text('?', 'plan', sp)}"
    want = [lite.execute(sql, [text, *sp.values]).fetchone()[0] for text in JSON_CASES]
    d = ClickHouseDialect(version)
    p = Params(d)
    expr = d.json_text("props", "plan", p)
    named = {f"p{i}": v for i, v in enumerate(p.values, start=1)}
    for text, row in zip(JSON_CASES, want, strict=True):
        # framed: an empty line would be no row at all in TabSeparated
        got = ch.run(
            f"SELECT concat('<', {expr}, '>') FROM (SELECT %(j)s AS props)", {**named, "j": text}
        )
        assert got[0][0].replace("\\\\", "\\") == f"<{row}>", text
