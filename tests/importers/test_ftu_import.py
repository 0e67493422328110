"""Importing Flask-Track-Usage's SQL table: history kept, counted once, enriched like live traffic.

`tests/data/flask_track_usage/flask_usage.sqlite` is a table the real
Flask-Track-Usage 2.0 wrote (`make_sample.py` in the same folder, run by
`test_sample_is_what_flask_track_usage_writes`): three days of a small shop,
two visitors a day, a bot, a static file, a 404, a blueprint with
`g.track_var`, a user behind a proxy with basic auth.
"""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tests.ftu_env import DATA, run_ftu
from tests.services import POSTGRES_URL, need_postgres

from footfall import connect, stats
from footfall.cli import main
from footfall.errors import ConfigurationError
from footfall.importers.flask_track_usage import SKIP_TIME, FlaskTrackUsageImporter
from footfall.stores.base import Store

SAMPLE = DATA / "flask_usage.sqlite"
SITE = "shop.example"
PERIOD = {"period": "custom", "date": "2024-03-04,2024-03-06"}
# What the sample holds, counted by hand from make_sample.py's VISITS: 13 rows,
# one of them a bot (which the stats leave out); pages are 2xx rows that are
# not /static/app.css; visitors are one per address and day; A's first day
# has a 45-minute gap, so two visits.
EXPECTED = {"visitors": 5, "visits": 6, "pageviews": 10, "events": 12}


def _stats(store: Store, **params: Any) -> dict[str, Any]:
    answer = stats.query(
        store, SITE, metrics="visitors,visits,pageviews,events", **PERIOD, **params
    )
    return {k: answer[k]["value"] if isinstance(answer[k], dict) else answer[k] for k in EXPECTED}


def _import(
    store: Store, url: str = f"sqlite:///{SAMPLE}", table: str = "flask_usage", **kw: Any
) -> Any:
    return FlaskTrackUsageImporter(store, **kw).import_table(url, table)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = connect(db_url)
    yield s
    s.close()


def test_import_gives_the_history_in_the_stats(store: Store) -> None:
    report = _import(store)
    assert (report.rows, report.bad, report.stored, report.new) == (13, 0, 13, 13)
    assert _stats(store) == EXPECTED
    events = {e.path + "|" + e.ts.strftime("%d %H:%M"): e for e in store.get_usage(limit=100)}
    blog = events["/blog/hello|05 08:02"]
    assert blog.props == {"ab": "v2", "blueprint": "blog", "view_args": {"slug": "hello"}}
    assert blog.name == "pageview" and blog.source == "server"
    assert (blog.browser, blog.os, blog.device, blog.browser_version) == (
        "Chrome",
        "Windows",
        "desktop",
        "120.0.0.0",
    )
    assert events["/static/app.css|04 10:00"].name == "request"
    assert events["/missing|04 10:01"].name == "request"
    assert events["/missing|04 10:01"].status == 404
    bot = events["/|04 11:00"]
    assert bot.is_bot and bot.browser == "Googlebot"
    account = events["/account|05 12:01"]
    assert account.user_id == "carol" and account.duration_ms > 0
    assert events["/|05 08:00"].utm_source == "newsletter"  # the URL went through the UTM step
    assert all(e.ip == "" for e in events.values())  # dropped after use, as live
    # Under a later Werkzeug the ua_* columns are empty: no browser, still a visitor.
    phone = events["/|06 07:00"]
    assert phone.browser == "" and phone.visitor_id


def test_importing_twice_counts_once(store: Store) -> None:
    _import(store)
    again = _import(store)
    assert (again.stored, again.new, again.already) == (13, 0, 13)
    assert store.count() == 13
    assert _stats(store) == EXPECTED


def test_ids_do_not_depend_on_batches_or_on_a_resumed_run(tmp_path: Path) -> None:
    """An import cut short and run again gives the same events, visitors and visits."""
    whole = connect(f"sqlite:///{tmp_path / 'whole.db'}")
    _import(whole)
    partial = tmp_path / "partial.sqlite"
    shutil.copy(SAMPLE, partial)
    with sqlite3.connect(partial) as conn:
        conn.execute("DELETE FROM flask_usage WHERE id > 5")  # the run that crashed
    resumed = connect(f"sqlite:///{tmp_path / 'resumed.db'}")
    secret = _secret(whole)
    _import(resumed, f"sqlite:///{partial}", secret=secret, batch_size=2)
    _import(resumed, secret=secret, batch_size=4)

    def keys(s: Store) -> set[tuple[str, str, str]]:
        return {(e.id, e.visitor_id, e.visit_id) for e in s.get_usage(limit=100)}

    assert keys(whole) == keys(resumed) and len(keys(whole)) == 13
    whole.close()
    resumed.close()


def _secret(store: Store) -> bytes:
    state = store.processor_state()
    assert state is not None
    return state.salt("import-secret")


def test_forwarded_takes_the_proxy_header(store: Store) -> None:
    _import(store, forwarded=True, ip="keep")
    ips = {e.path: e.ip for e in store.get_usage(limit=100) if e.ts.day == 5}
    assert ips["/account"] == "192.0.2.33"
    assert ips["/blog/hello"] == "203.0.113.10"  # no header: the direct address


def test_until_stops_where_footfall_took_over(store: Store) -> None:
    report = _import(store, until=datetime(2024, 3, 6, tzinfo=timezone.utc))
    assert report.new == 11 and report.skipped == {SKIP_TIME: 2}


def test_bad_rows_are_counted_and_the_rest_imported(tmp_path: Path, store: Store) -> None:
    copy = tmp_path / "bad.sqlite"
    shutil.copy(SAMPLE, copy)
    with sqlite3.connect(copy) as conn:
        conn.execute(
            "INSERT INTO flask_usage (url, status, datetime) "
            "VALUES ('https://shop.example/x', 200, 'soon')"
        )
        conn.execute("INSERT INTO flask_usage (url, status) VALUES ('https://shop.example/y', 200)")
    report = _import(store, f"sqlite:///{copy}")
    assert (report.rows, report.bad, report.new) == (15, 2, 13)
    assert [reason for _, reason in report.bad_samples] == [
        "datetime 'soon' is not a time",
        "no datetime",
    ]


def test_a_flask_track_usage_1_table_imports(tmp_path: Path, store: Store) -> None:
    """1.x tables have no track_var or username column (1.0 no xforwardedfor)."""
    old = tmp_path / "old.sqlite"
    with sqlite3.connect(old) as conn:
        conn.execute(f"ATTACH DATABASE '{SAMPLE}' AS sample")
        conn.execute(
            "CREATE TABLE flask_usage AS SELECT id, url, ua_browser, ua_language, ua_platform, "
            "ua_version, blueprint, view_args, status, remote_addr, authorization, ip_info, "
            "path, speed, datetime FROM sample.flask_usage"
        )
    report = _import(store, f"sqlite:///{old}")
    assert report.new == 13
    assert _stats(store) == EXPECTED


def test_what_is_not_a_flask_track_usage_table_is_refused(tmp_path: Path, store: Store) -> None:
    with pytest.raises(ConfigurationError, match="not a table or column name"):
        _import(store, table="flask_usage; DROP TABLE x")
    with pytest.raises(ConfigurationError, match="cannot read table"):
        _import(store, table="nope")
    with pytest.raises(ConfigurationError, match="no such database file"):
        _import(store, f"sqlite:///{tmp_path / 'missing.sqlite'}")
    with pytest.raises(ConfigurationError, match="give a sqlite"):
        _import(store, "mysql://root@localhost/app")
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE flask_usage (id INTEGER PRIMARY KEY, url TEXT)")
    with pytest.raises(ConfigurationError, match="no datetime column"):
        _import(store, f"sqlite:///{other}")
    assert store.count() == 0


def test_the_command_imports_and_reports(db_url: str) -> None:
    args = ["import", "flask-track-usage", f"sqlite:///{SAMPLE}", "--db", db_url]
    first = CliRunner().invoke(main, [*args, "--until", "2024-03-06"])
    assert first.exit_code == 0, first.output
    assert "13 rows read, 0 bad; 11 events (9 page views): 11 new" in first.output
    assert f"skipped 2: {SKIP_TIME}" in first.output
    second = CliRunner().invoke(main, args)
    assert "13 events (11 page views): 2 new, 11 already in the store" in second.output
    with connect(db_url) as store:
        assert _stats(store) == EXPECTED
    missing = CliRunner().invoke(main, [*args[:2], "sqlite:///no/such.sqlite", "--db", db_url])
    assert missing.exit_code == 1 and "no such database file" in missing.output


def test_sample_is_what_flask_track_usage_writes(tmp_path: Path) -> None:
    """The committed sample is make_sample.py's output under the real Flask-Track-Usage 2.0."""
    fresh = tmp_path / "fresh.sqlite"
    assert run_ftu("make_sample.py", f"sqlite:///{fresh}") == {"rows": 13}

    def rows(path: Path) -> list[tuple[Any, ...]]:
        with sqlite3.connect(path) as conn:
            cur = conn.execute("SELECT * FROM flask_usage ORDER BY id")
            names = [d[0] for d in cur.description]
            return [tuple(v for n, v in zip(names, r) if n != "speed") for r in cur]

    assert rows(fresh) == rows(SAMPLE)


@pytest.fixture
def pg_table() -> Iterator[str]:
    need_postgres()
    psycopg = pytest.importorskip("psycopg")
    name = f"ftu_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {name}")


def test_import_from_postgresql(pg_table: str, store: Store) -> None:
    """The same history written by Flask-Track-Usage into PostgreSQL imports the same."""
    run_ftu("make_sample.py", POSTGRES_URL, pg_table)
    sqlalchemy_url = POSTGRES_URL.replace("postgresql://", "postgresql+psycopg2://", 1)
    report = _import(store, sqlalchemy_url, pg_table, secret=b"k" * 32)
    assert (report.rows, report.new) == (13, 13)
    assert _stats(store) == EXPECTED
    again = _import(store, POSTGRES_URL, pg_table, secret=b"k" * 32)
    assert again.new == 0
    # The same rows read from SQLite are the same events: a moved table is no new history.
    from_sqlite = _import(store, secret=b"k" * 32)
    assert (from_sqlite.stored, from_sqlite.new) == (13, 0)
