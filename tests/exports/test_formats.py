"""The writers work on the stores' rows, a column at a time; their bytes are
still those of each event written on its own (`event_record` through orjson
for JSON lines, the event's values through `csv.writer`), on every store.

The events hold what could tell the two apart: text with quotes,
backslashes, control and non-ASCII characters, floats that orjson writes
with an exponent (`1e+16`), integers past 2**53, timestamps at a second's
and a day's edge.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
from tests.stores.conftest import STORE_FACTORIES

from footfall import Event
from footfall.columns import EVENT_COLUMNS
from footfall.exports.formats import _json_raw, _json_text, event_record, format_micros, format_ts
from footfall.exports.stream import export_events
from footfall.stores import Store
from footfall.stores.rows import from_micros

T0 = datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone.utc)
TEXT = ('say "hi"\\', "tab\there\nnew line", "\x01\x1f\x7f", "é ü 東京 \u2028 🙂", "</script>")
FLOATS = (0.0, 12.5, 167.94, 1e16, 2.5e-7, 123456789012345.6, 1e300, 0.001)
# PostgreSQL's jsonb gives 1e300 back as an integer, which JSON lines cannot hold
IN_JSON = (0.0, 12.5, 1e16, 2.5e-7, 123456789012345.6, 0.001)


@pytest.fixture(params=sorted(STORE_FACTORIES))
def store(request: Any, tmp_path: Path) -> Iterator[Store]:
    s = STORE_FACTORIES[request.param](tmp_path)
    try:
        yield s
    finally:
        s.close()


def _events() -> list[Event]:
    events = []
    for i in range(60):
        text = TEXT[i % len(TEXT)]
        events.append(
            Event(
                name="pageview" if i % 3 else "shop.checkout",
                site=("a.example", "b.example")[i % 2],
                ts=T0 + timedelta(microseconds=i * 7 - 200),
                path=f"/p/{text}",
                title=text,
                status=(0, 200, 404)[i % 3],
                bytes=i * 1000,
                duration_ms=FLOATS[i % len(FLOATS)],
                is_bot=i % 5 == 0,
                props={"v": IN_JSON[i % len(IN_JSON)], "t": text, "n": 2**60 + i} if i % 2 else {},
                context={"page": {"title": text, "list": [1, 2.5e-20, None, True]}}
                if i % 4 == 1
                else {},
            )
        )
    return events


def _stored(store: Store) -> list[Event]:
    events = _events()
    assert store.write(events) == len(events)
    store.flush_buffer()
    return [e for chunk in store.iter_events() for e in chunk]


def _export(store: Store, fmt: str) -> bytes:
    out = io.BytesIO()
    assert export_events(store, out, fmt, chunk=7).events == 60
    return out.getvalue()


def test_jsonl_bytes_are_each_events_own(store: Store) -> None:
    events = _stored(store)
    assert _export(store, "jsonl") == b"".join(
        orjson.dumps(event_record(e)) + b"\n" for e in events
    )


def test_csv_bytes_are_each_events_own(store: Store) -> None:
    events = _stored(store)
    want = io.StringIO(newline="")
    writer = csv.writer(want, lineterminator="\r\n")
    writer.writerow(EVENT_COLUMNS)
    for e in events:
        record = event_record(e)
        record["is_bot"] = 1 if e.is_bot else 0
        record["props"] = orjson.dumps(e.props).decode()
        record["context"] = orjson.dumps(e.context).decode()
        writer.writerow(record.values())
    assert _export(store, "csv") == want.getvalue().encode()


def test_iter_rows_are_iter_events_rows(store: Store) -> None:
    events = _stored(store)
    chunks = list(store.iter_rows(chunk=7))
    assert [len(c) for c in chunks] == [7] * 4 + [2] + [7] * 4 + [2]  # 30 events per site
    rows = [r for c in chunks for r in c]
    assert [r[EVENT_COLUMNS.index("id")] for r in rows] == [e.id for e in events]
    assert [r[EVENT_COLUMNS.index("ts")] for r in rows][:3] == [
        (e.ts - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(microseconds=1)
        for e in events[:3]
    ]


def test_format_micros_is_format_ts() -> None:
    rng = random.Random(5)
    edges = [0, -1, 1, 86_399_999_999, 86_400_000_000, -86_400_000_001, 951_782_400_000_000]
    lowest, highest = -62_135_596_800_000_000, 253_402_300_799_999_999  # years 1 and 9999
    values = [*edges, lowest, highest, *(rng.randint(lowest, highest) for _ in range(5000))]
    for us in values:
        assert format_micros(us) == format_ts(from_micros(us)), us


def test_a_json_column_with_an_integer_past_64_bits_is_written() -> None:
    """PostgreSQL's jsonb hands `1e300` back as an int that orjson refuses."""
    value = {"n": 10**300, "s": "é"}
    assert _json_text(value) == '{"n":1' + "0" * 300 + ',"s":"é"}'
    assert bytes(_json_raw(value)) == _json_text(value).encode()
