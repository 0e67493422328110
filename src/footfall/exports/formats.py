"""The three export formats, each written one chunk of events at a time.

Every format has every column of the events table (`EVENT_COLUMNS`), in its
order, whatever an event holds, so a file's shape does not depend on its
data: `ts` is an RFC 3339 UTC time with microseconds, `props` and `context`
are JSON objects (a JSON string in CSV and Parquet), `is_bot` a boolean
(0/1 in CSV). JSON lines are what `footfall import footfall` reads back;
CSV and Parquet are for other tools (a spreadsheet, pandas, DuckDB). CSV
cells are written as stored: a value that starts with `=` is not
neutralised as the dashboard's CSVs are, so the file stays exact.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import IO, Any, Protocol

import msgspec
import orjson

from footfall.columns import EVENT_COLUMNS, JSON_COLUMNS, SQL_TYPES
from footfall.errors import ConfigurationError
from footfall.event import Event

__all__ = ["FORMATS", "EventWriter", "event_record", "format_ts", "writer_for"]

FORMATS = ("jsonl", "csv", "parquet")
_astuple = msgspec.structs.astuple
_TS = EVENT_COLUMNS.index("ts")
_BOT = EVENT_COLUMNS.index("is_bot")
_JSON = tuple(EVENT_COLUMNS.index(c) for c in JSON_COLUMNS)


def format_ts(ts: datetime) -> str:
    """`2026-03-02T10:00:00.000000Z`: UTC, microseconds always written."""
    if ts.tzinfo is not timezone.utc:
        ts = ts.astimezone(timezone.utc)
    # isoformat is several times faster than strftime; "+00:00" becomes "Z"
    return ts.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def event_record(event: Event) -> dict[str, Any]:
    """One event as a JSON object with every column (what a JSON line holds)."""
    values = list(_astuple(event))
    values[_TS] = format_ts(values[_TS])
    return dict(zip(EVENT_COLUMNS, values, strict=True))


class EventWriter(Protocol):
    """Writes chunks of events to an open binary file; `close` ends the format."""

    def write(self, events: Sequence[Event]) -> None: ...

    def close(self) -> None: ...


class JsonLinesWriter:
    """One JSON object per line, every column present."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out

    def write(self, events: Sequence[Event]) -> None:
        dumps = orjson.dumps
        self.out.write(b"".join(dumps(event_record(e)) + b"\n" for e in events))

    def close(self) -> None:
        """Nothing to end: a JSON-lines file is complete after every line."""


class CsvWriter:
    """A header row, then one row per event; JSON columns JSON-encoded."""

    def __init__(self, out: IO[bytes]) -> None:
        self.text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        self.writer = csv.writer(self.text, lineterminator="\r\n")
        self.writer.writerow(EVENT_COLUMNS)

    def write(self, events: Sequence[Event]) -> None:
        rows = []
        for e in events:
            row = list(_astuple(e))
            row[_TS] = format_ts(row[_TS])
            row[_BOT] = 1 if row[_BOT] else 0
            for i in _JSON:
                row[i] = orjson.dumps(row[i]).decode()
            rows.append(row)
        self.writer.writerows(rows)

    def close(self) -> None:
        self.text.flush()
        self.text.detach()  # the caller closes the binary file


_PARQUET_TYPES = {"INTEGER": "int64", "REAL": "float64"}


class ParquetWriter:
    """One Parquet row group per chunk (pyarrow, the `parquet` extra)."""

    def __init__(self, out: IO[bytes]) -> None:
        try:
            # lazy: an optional extra, loaded only for this format
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise ConfigurationError(
                "Parquet export needs pyarrow: pip install 'footfall[parquet]'"
            ) from None
        self.pa = pa
        fields = []
        for name in EVENT_COLUMNS:
            if name == "ts":
                kind = pa.timestamp("us", tz="UTC")
            elif name == "is_bot":
                kind = pa.bool_()
            elif name == "status":
                kind = pa.int32()
            else:
                kind = getattr(pa, _PARQUET_TYPES.get(SQL_TYPES[name].sqlite, "string"))()
            fields.append(pa.field(name, kind, nullable=False))
        self.schema = pa.schema(fields)
        self.writer = pq.ParquetWriter(out, self.schema, compression="zstd")

    def write(self, events: Sequence[Event]) -> None:
        if not events:
            return
        columns: list[list[Any]] = [list(c) for c in zip(*map(_astuple, events), strict=True)]
        for i in _JSON:
            columns[i] = [orjson.dumps(v).decode() for v in columns[i]]
        table = self.pa.Table.from_arrays(
            [self.pa.array(c, type=f.type) for c, f in zip(columns, self.schema, strict=True)],
            schema=self.schema,
        )
        self.writer.write_table(table)

    def close(self) -> None:
        self.writer.close()


def writer_for(fmt: str, out: IO[bytes]) -> EventWriter:
    """The writer of `fmt` (one of FORMATS) over the binary file `out`."""
    if fmt == "jsonl":
        return JsonLinesWriter(out)
    if fmt == "csv":
        return CsvWriter(out)
    if fmt == "parquet":
        return ParquetWriter(out)
    raise ConfigurationError(f"export format must be one of {', '.join(FORMATS)}, not {fmt!r}")
