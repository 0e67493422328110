"""An export read back: the same events, and so the same stats, in another store.

Store A (SQLite) holds generated traffic (footfall.demo); `footfall export`
writes it as JSON lines and `footfall import footfall` reads that into an
empty store B (SQLite, PostgreSQL); every stats answer is then equal. The
CSV and Parquet exports are read back with the csv module and pyarrow.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from tests.services import postgres_schema

from footfall import Event, connect, stats
from footfall.cli import main
from footfall.columns import EVENT_COLUMNS
from footfall.demo import generate
from footfall.exports.formats import format_ts
from footfall.exports.stream import export_events
from footfall.stores import Store

NOW = datetime(2026, 3, 20, 18, 0, tzinfo=timezone.utc)
SITES = ("demo.footfall.dev", "shop.example.com", "api.example.com")
PERIOD = {"period": "custom", "date": "2026-03-10,2026-03-20"}


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, list[Event]]]:
    """Store A with ten days of generated traffic, and its events."""
    path = tmp_path_factory.mktemp("export") / "a.db"
    store = connect(f"sqlite:///{path}")
    events: list[Event] = []
    for day in generate(days=10, seed=7, scale=0.25, now=NOW):
        store.write(day)
        events.extend(day)
    yield store, events
    store.close()


def _stats(store: Store, site: str) -> dict[str, Any]:
    metrics = "visitors,visits,pageviews,views_per_visit,bounce_rate,visit_duration,events"
    answers: dict[str, Any] = {
        "aggregate": stats.query(store, site, metrics=metrics, **PERIOD),
        "timeseries": stats.query(
            store, site, kind="timeseries", metrics="visitors,pageviews", **PERIOD
        ),
    }
    for prop in ("event:page", "visit:source", "visit:country", "visit:entry_page", "event:name"):
        answers[prop] = stats.query(
            store, site, kind="breakdown", property=prop, metrics="visitors,pageviews", **PERIOD
        )
    q = stats.make_query(store, site, **PERIOD)
    answers["funnel"] = stats.funnel(store, q, ["event:page==/", "event:page==/pricing"])
    return answers


def _roundtrip(a: Store, b_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    dump = tmp_path / "events.jsonl.gz"
    out = runner.invoke(main, ["export", "--db", a.url, "-o", str(dump)])
    assert out.exit_code == 0, out.output
    with gzip.open(dump, "rb") as f:
        assert sum(1 for _ in f) == a.count()
    for run in range(2):  # a second import stores nothing again
        out = runner.invoke(main, ["import", "footfall", str(dump), "--db", b_url])
        assert out.exit_code == 0, out.output
        new, already = (a.count(), 0) if run == 0 else (0, a.count())
        assert f"{new:,} new, {already:,} already stored" in out.output
    b = connect(b_url)
    try:
        assert b.count() == a.count()
        for site in SITES:
            assert _stats(b, site) == _stats(a, site), site
        got = [e for chunk in b.iter_events() for e in chunk]
        assert got == [e for chunk in a.iter_events() for e in chunk]
    finally:
        b.close()


def test_jsonl_roundtrip_into_sqlite(source: tuple[Store, list[Event]], tmp_path: Path) -> None:
    a, events = source
    assert a.count() == len(events) > 5_000
    _roundtrip(a, f"sqlite:///{tmp_path / 'b.db'}", tmp_path)


def test_jsonl_roundtrip_into_postgres(source: tuple[Store, list[Event]], tmp_path: Path) -> None:
    with postgres_schema("ff_export") as url:
        _roundtrip(source[0], url, tmp_path)


def _expected(events: list[Event]) -> list[Event]:
    return sorted(events, key=lambda e: (e.site, e.ts, e.id))


def test_csv_export_reads_back(source: tuple[Store, list[Event]]) -> None:
    a, events = source
    out = io.BytesIO()
    report = export_events(a, out, "csv", chunk=997)
    assert report.events == len(events) and report.chunks > 1
    rows = list(csv.DictReader(io.StringIO(out.getvalue().decode(), newline="")))
    assert list(rows[0]) == list(EVENT_COLUMNS)
    assert len(rows) == len(events)
    for row, e in zip(rows, _expected(events), strict=True):
        assert row["id"] == e.id
        assert row["ts"] == format_ts(e.ts)
        assert datetime.fromisoformat(row["ts"]) == e.ts
        assert orjson.loads(row["props"]) == e.props
        assert orjson.loads(row["context"]) == e.context
        assert row["is_bot"] == str(int(e.is_bot))
        assert int(row["status"]) == e.status and float(row["duration_ms"]) == e.duration_ms
        for name in ("site", "name", "path", "referrer_source", "country", "visitor_id"):
            assert row[name] == getattr(e, name)


def test_parquet_export_reads_back(source: tuple[Store, list[Event]], tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    a, events = source
    path = tmp_path / "events.parquet"
    with path.open("wb") as f:
        report = export_events(a, f, "parquet", site="shop.example.com", chunk=100)
    want = _expected([e for e in events if e.site == "shop.example.com"])
    meta = pq.ParquetFile(path).metadata
    assert meta.num_rows == len(want) and meta.num_row_groups == report.chunks > 1
    table = pq.read_table(path)
    assert table.column_names == list(EVENT_COLUMNS)
    rows = table.to_pylist()
    for row, e in zip(rows, want, strict=True):
        row["props"] = orjson.loads(row["props"])
        row["context"] = orjson.loads(row["context"])
        assert Event(**row) == e


def test_cli_time_range_site_and_missing_pyarrow(
    source: tuple[Store, list[Event]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, events = source
    runner = CliRunner()
    args = ["export", "--db", a.url, "--site", "shop.example.com"]
    out = runner.invoke(main, [*args, "--from", "2026-03-12", "--to", "2026-03-13"])
    assert out.exit_code == 0, out.output
    lines = [orjson.loads(x) for x in out.stdout.splitlines()]
    want = _expected(
        [
            e
            for e in events
            if e.site == "shop.example.com"
            and datetime(2026, 3, 12, tzinfo=timezone.utc)
            <= e.ts
            < datetime(2026, 3, 14, tzinfo=timezone.utc)
        ]
    )
    assert [x["id"] for x in lines] == [e.id for e in want] and want
    assert all(set(x) == set(EVENT_COLUMNS) for x in lines)

    monkeypatch.setitem(__import__("sys").modules, "pyarrow", None)
    target = tmp_path / "x.parquet"
    out = runner.invoke(main, [*args, "--format", "parquet", "-o", str(target)])
    assert out.exit_code == 1
    assert "pip install 'footfall[parquet]'" in out.output
    assert not target.exists()
