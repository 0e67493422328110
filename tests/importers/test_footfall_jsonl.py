"""`footfall import footfall`: exported JSON lines back into a store, bad lines counted."""

from __future__ import annotations

import gzip
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from footfall import Event, connect
from footfall.cli import main
from footfall.exports.formats import event_record
from footfall.importers.footfall_jsonl import FootfallImporter, parse_line
from footfall.importers.sources import Input

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)


def _line(e: Event) -> bytes:
    return orjson.dumps(event_record(e))


def _events(n: int) -> list[Event]:
    return [
        Event(
            name="pageview",
            site="s.example",
            ts=T0.replace(minute=i),
            path=f"/{i}",
            visitor_id="v1",
            visit_id="x1",
            country="DE",
            browser="Firefox",
            props={"i": i},
        )
        for i in range(n)
    ]


def test_a_line_keeps_id_time_and_enrichment() -> None:
    e = _events(1)[0]
    assert parse_line(_line(e)) == e
    # the fewest fields an exported line can have: the rest take their defaults
    got = parse_line(b'{"name":"x","id":"a-1","ts":"2026-03-02T10:00:00Z","zz":1}')
    assert (got.id, got.ts, got.site) == ("a-1", T0, "")


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"not json", "malformed"),
        (b'{"name":"x","ts":"2026-03-02T10:00:00Z"}', "missing required field `id`"),
        (b'{"name":"x","id":"a"}', "missing required field `ts`"),
        (b'{"name":"x","id":"a","ts":"2026-03-02T10:00:00"}', "timezone-aware"),
        (b'{"name":"x","id":"a","ts":"2026-03-02T10:00:00Z","source":"mars"}', "source"),
        (b'{"name":"x","id":"a","ts":"2026-03-02T10:00:00Z","status":"200"}', "int"),
        (b"[1, 2]", "Expected `object`"),
    ],
)
def test_what_is_not_an_event(line: bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_line(line)


def test_batches_bad_lines_and_a_second_import(tmp_path: Path) -> None:
    events = _events(25)
    lines = [_line(e) for e in events]
    lines[3:3] = [b"", b"oops", b'{"name":"x"}']
    path = tmp_path / "export.jsonl.gz"
    path.write_bytes(gzip.compress(b"\n".join(lines)))  # no line end after the last
    store = connect(f"sqlite:///{tmp_path / 'b.db'}")
    try:
        for run in range(2):
            importer = FootfallImporter(store, batch_size=4)
            with Input(str(path)) as source:
                importer.read(source)
            r = importer.report
            assert (r.lines, r.blank, r.bad) == (28, 1, 2)
            assert (r.new, r.already) == ((25, 0) if run == 0 else (0, 25))
            assert [(n, text) for _, n, _, text in r.bad_samples] == [
                (5, "oops"),
                (6, '{"name":"x"}'),
            ]
        stored = [e for chunk in store.iter_events() for e in chunk]
        assert stored == events
    finally:
        store.close()


def test_a_gzip_cut_short_keeps_the_lines_before_the_cut(tmp_path: Path) -> None:
    events = [
        Event(name="pageview", site="s.example", ts=T0 + timedelta(seconds=i), path=f"/{i}")
        for i in range(3000)
    ]
    whole = gzip.compress(b"".join(_line(e) + b"\n" for e in events))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) * 2 // 3])
    store = connect(f"sqlite:///{tmp_path / 'b.db'}")
    try:
        importer = FootfallImporter(store)
        with Input(str(path)) as source:
            importer.read(source)
            assert source.error
        assert 0 < importer.report.new < len(events) and importer.report.bad == 0
        got = [e.id for chunk in store.iter_events() for e in chunk]
        assert got == [e.id for e in events[: len(got)]]  # every line before the cut
    finally:
        store.close()


def test_cli_reads_stdin_and_reports(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'b.db'}"
    text = b"\n".join([*(_line(e) for e in _events(3)), b"{broken"]) + b"\n"
    out = CliRunner().invoke(main, ["import", "footfall", "-", "--db", db], input=text)
    assert out.exit_code == 0, out.output
    assert "read 4 lines from 1 input" in out.output
    assert "stored 3 events: 3 new, 0 already stored" in out.output
    assert "bad lines: 1 (not an exported event); the first:" in out.output
    assert "stdin:4: JSON is malformed" in out.output
    only_bad = CliRunner().invoke(main, ["import", "footfall", "-", "--db", db], input=b"x\ny\n")
    assert only_bad.exit_code == 1
    assert "no line was an exported event" in only_bad.output
