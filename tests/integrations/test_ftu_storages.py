"""Flask-Track-Usage 2.0's documented example keeps its SQLStorage when only the import changes.

The example runs twice under the real Flask-Track-Usage 2.0 (tests/ftu_env.py):
once with its own `TrackUsage`, once with footfall's, and the storage's
`get_usage()` answers are compared column by column. The columns that differ
are the ones docs/migrate-from-flask-track-usage.md lists.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.ftu_env import run_ftu
from tests.services import POSTGRES_URL, need_postgres

pytest.importorskip("flask")

SAME = (
    "url",
    "blueprint",
    "view_args",
    "status",
    "authorization",
    "ip_info",
    "path",
    "username",
    "track_var",
)


def _by_path(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["path"]: r for r in rows}


def _example(kind: str, url: str, table: str = "flask_usage", *flags: str) -> Any:
    return run_ftu("run_example.py", kind, url, table, *flags)


def test_sqlstorage_gives_the_same_rows_with_the_import_changed(tmp_path: Path) -> None:
    ftu = _example("ftu", f"sqlite:///{tmp_path / 'ftu.sqlite'}")
    ours = _example(
        "footfall", f"sqlite:///{tmp_path / 'footfall.sqlite'}", "flask_usage", "--keep-ip"
    )
    theirs, mine = _by_path(ftu["rows"]), _by_path(ours["rows"])
    assert sorted(theirs) == sorted(mine) == ["/", "/user/bob"]  # /other is not included
    for path in theirs:
        a, b = theirs[path], mine[path]
        assert list(a) == list(b)
        assert {k: a[k] for k in SAME} == {k: b[k] for k in SAME}
        assert a["remote_addr"] == b["remote_addr"]  # kept with ip="keep"
        assert isinstance(b["speed"], float) and b["speed"] > 0
        gap = datetime.fromisoformat(b["date"]) - datetime.fromisoformat(a["date"])
        assert timedelta(0) <= gap < timedelta(minutes=2)  # naive UTC, to the second
    assert mine["/"]["track_var"] == '{"optional": "something"}'
    assert mine["/user/bob"]["view_args"] == '{"name": "bob"}'
    assert mine["/user/bob"]["username"] == "bob"
    # What differs, as documented: the raw X-Forwarded-For header is not kept,
    # and the user agent is footfall's parse where Werkzeug >= 2.1 gave None.
    assert theirs["/user/bob"]["xforwardedfor"] == "198.51.100.4"
    assert mine["/user/bob"]["xforwardedfor"] is None
    assert theirs["/"]["user_agent"] == dict.fromkeys(
        ("browser", "language", "platform", "version")
    )
    assert mine["/"]["user_agent"] == {
        "browser": "Chrome",
        "language": "en-US",
        "platform": "Windows",
        "version": "120.0",
    }
    # The storage's post-storage hook is called as Flask-Track-Usage called it.
    assert ftu["hooks"] == ours["hooks"]
    hook_calls = [c for c in ours["hooks"] if "keys" in c]
    assert [(c["path"], c["parent"]) for c in hook_calls] == [
        ("/", "SQLStorage"),
        ("/user/bob", "SQLStorage"),
    ]


def test_sqlstorage_gets_no_ip_address_by_default(tmp_path: Path) -> None:
    ours = _example("footfall", f"sqlite:///{tmp_path / 'footfall.sqlite'}")
    assert [r["remote_addr"] for r in ours["rows"]] == [None, None]


@pytest.fixture
def pg_table() -> Iterator[str]:
    need_postgres()
    psycopg = pytest.importorskip("psycopg")
    names = [f"ftu_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    yield ",".join(names)
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        for name in names:
            for suffix in ("", "_url_hourly", "_url_daily", "_url_monthly"):
                conn.execute(f"DROP TABLE IF EXISTS {name}{suffix}")


def test_summary_hooks_count_the_same_on_postgresql(pg_table: str) -> None:
    """Flask-Track-Usage's own `sumUrl` hook (PostgreSQL only) keeps its tables right."""
    theirs_table, our_table = pg_table.split(",")
    ftu = _example("ftu", POSTGRES_URL, theirs_table, "--sum-url")
    ours = _example("footfall", POSTGRES_URL, our_table, "--sum-url", "--keep-ip")
    assert ftu["sum_url"] == ours["sum_url"] != []
    assert len(ftu["rows"]) == len(ours["rows"]) == 2


def test_long_values_are_cut_to_the_columns_and_a_bad_row_skipped(pg_table: str) -> None:
    """PostgreSQL refuses strings longer than SQLStorage's columns: long URLs and paths are
    cut to fit, and a row it still refuses is skipped without holding back the others."""
    table = pg_table.split(",")[0]
    rows = run_ftu("long_values.py", POSTGRES_URL, table)
    assert [r["path"] for r in rows] == ["/long/long/long/long/long/long/l", "/short"]
    assert len(rows[0]["url"]) == 128 and rows[0]["url"].startswith("http://localhost/long/")


def test_a_failing_storage_or_hook_never_writes_a_row_twice() -> None:
    """A storage that fails mid-batch is retried from the row that failed; a hook that
    raises is logged and does not make its row be stored again."""
    out = run_ftu("flaky_storage.py")
    assert out == {"rows": ["/a", "/b", "/c"], "hook_runs": 3}


def test_a_plain_callable_storage_gets_the_records() -> None:
    """Flask-Track-Usage called any callable it was given as a storage with its record."""
    flask = pytest.importorskip("flask")
    from footfall.integrations.flask import TrackUsage  # needs flask

    records: list[dict[str, Any]] = []
    app = flask.Flask(__name__)
    t = TrackUsage(app, [records.append])

    @app.route("/p/<int:n>")
    def page(n: int) -> str:
        flask.g.track_var["n"] = n
        return "ok"

    app.test_client().get("/p/7?x=1&x=2")
    assert t.tracker.flush(30)
    (record,) = records
    assert record["path"] == "/p/7" and record["status"] == 200
    assert record["view_args"] == {"n": 7} and record["track_var"] == {"n": 7}
    assert record["url_args"] == {"x": "1"} and record["server_name"] == app.name
    assert record["content_length"] == 2 and record["username"] is None
    t.tracker.close()
