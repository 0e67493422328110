"""The three export formats, each written one chunk of events at a time.

Every format has every column of the events table (`EVENT_COLUMNS`), in its
order, whatever an event holds, so a file's shape does not depend on its
data: `ts` is an RFC 3339 UTC time with microseconds, `props` and `context`
are JSON objects (a JSON string in CSV and Parquet), `is_bot` a boolean
(0/1 in CSV). JSON lines are what `footfall import footfall` reads back;
CSV and Parquet are for other tools (a spreadsheet, pandas, DuckDB). CSV
cells are written as stored: a value that starts with `=` is not
neutralised as the dashboard's CSVs are, so the file stays exact.

The writers take the store's rows (`Store.iter_rows`), not `Event`s, and
work a chunk a column at a time: the chunk is transposed once (in C), each
column that needs it is converted by one comprehension (a timestamp's text
from its microseconds, a JSON column's canonical text), and the lines are
encoded (orjson, `csv.writer.writerows`) or the Parquet arrays built
(`pa.array` per column) from those columns. A chunk reaches the file in one
write. Every value is what `Event` and the per-event writers of before made
of the same row, so the files are byte for byte the same.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta, timezone
from typing import IO, Any, Protocol

import msgspec
import orjson

from footfall.columns import EVENT_COLUMNS, JSON_COLUMNS, SQL_TYPES
from footfall.errors import ConfigurationError
from footfall.event import Event

__all__ = [
    "FORMATS",
    "EventWriter",
    "event_record",
    "format_micros",
    "format_ts",
    "writer_for",
]

FORMATS = ("jsonl", "csv", "parquet")
_astuple = msgspec.structs.astuple
_TS = EVENT_COLUMNS.index("ts")
_BOT = EVENT_COLUMNS.index("is_bot")
_JSON = tuple(EVENT_COLUMNS.index(c) for c in JSON_COLUMNS)
_INTS = tuple(EVENT_COLUMNS.index(c) for c in ("status", "bytes"))
_FLOATS = (EVENT_COLUMNS.index("duration_ms"),)
_EPOCH_DAY = date(1970, 1, 1)
_DAYS: dict[int, str] = {}  # day number -> "YYYY-MM-DDT", for format_micros
_RAW_EMPTY = msgspec.Raw(b"{}")
# One JSON line: msgspec encodes a Struct's fields, in order, without a dict per
# line, and a chunk's lines in one call (`encode_lines`); orjson takes a call,
# and a buffer, per line.
_Line = msgspec.defstruct("_Line", [(name, Any) for name in EVENT_COLUMNS])
Row = Sequence[Any]


def format_ts(ts: datetime) -> str:
    """`2026-03-02T10:00:00.000000Z`: UTC, microseconds always written."""
    if ts.tzinfo is not timezone.utc:
        ts = ts.astimezone(timezone.utc)
    # isoformat is several times faster than strftime; "+00:00" becomes "Z"
    return ts.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def format_micros(us: int) -> str:
    """`format_ts` of UTC microseconds since the epoch, without a datetime: the
    day's text is kept, the time of day is integer arithmetic."""
    seconds, micro = divmod(us, 1_000_000)
    day, second = divmod(seconds, 86_400)
    prefix = _DAYS.get(day)
    if prefix is None:
        if len(_DAYS) >= 4096:  # a few years of days; bounded whatever the data
            _DAYS.clear()
        prefix = _DAYS[day] = (_EPOCH_DAY + timedelta(days=day)).isoformat() + "T"
    hour, second = divmod(second, 3600)
    minute, second = divmod(second, 60)
    return f"{prefix}{hour:02d}:{minute:02d}:{second:02d}.{micro:06d}Z"


def _json_object(value: Any) -> dict[str, Any]:
    """A JSON column's value (text, or a dict from PostgreSQL's jsonb) as a dict."""
    if not value or value == "{}":
        return {}
    if isinstance(value, dict):
        return value
    found = orjson.loads(value)
    return found if isinstance(found, dict) else {}


def _dumps(obj: dict[str, Any]) -> bytes:
    """orjson's bytes for `obj`; the standard library's where orjson refuses an
    integer past 64 bits (PostgreSQL's jsonb gives `1e300` back as one)."""
    try:
        return orjson.dumps(obj)
    except orjson.JSONEncodeError:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def _json_text(value: Any) -> str:
    """A JSON column's value as orjson writes its dict (what `Event` made of it)."""
    if not value or value == "{}":
        return "{}"
    return _dumps(_json_object(value)).decode()


def _json_raw(value: Any) -> msgspec.Raw:
    """A JSON column's value as orjson writes its dict, ready to embed in a line."""
    if not value or value == "{}":
        return _RAW_EMPTY
    return msgspec.Raw(_dumps(_json_object(value)))


def _float_raw(value: float) -> float | msgspec.Raw:
    """A float as orjson writes it: msgspec writes the same digits, except for an
    exponent's sign (`1e+16` against `1e16`), so a float that could have one is
    embedded as orjson's text."""
    if value == 0.0 or 1e-3 <= abs(value) < 1e15:
        return value
    return msgspec.Raw(orjson.dumps(value))


def _exact(column: Sequence[Any], kind: type) -> Sequence[Any]:
    """A number column as `Event` holds it (`int(v or 0)`, `float(v or 0.0)`):
    as it is when every value already has the type, the common case."""
    if set(map(type, column)) <= {kind}:
        return column
    return [kind(v or 0) for v in column]


def _columns(
    rows: Sequence[Row],
    ts: Callable[[Any], Any] | None,
    json: Callable[[Any], Any],
    boolean: Callable[[Any], Any],
) -> list[Sequence[Any]]:
    """The chunk `rows` as columns, ts (unless None), JSON and is_bot columns
    converted by the given functions, numbers made exact."""
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True))
    if ts is not None:
        columns[_TS] = list(map(ts, columns[_TS]))
    columns[_BOT] = list(map(boolean, columns[_BOT]))
    for i in _JSON:
        columns[i] = list(map(json, columns[i]))
    for i in _INTS:
        columns[i] = _exact(columns[i], int)
    for i in _FLOATS:
        columns[i] = _exact(columns[i], float)
    return columns


def _bit(value: Any) -> int:
    return 1 if value else 0


def event_record(event: Event) -> dict[str, Any]:
    """One event as a JSON object with every column (what a JSON line holds)."""
    values = list(_astuple(event))
    values[_TS] = format_ts(values[_TS])
    return dict(zip(EVENT_COLUMNS, values, strict=True))


class EventWriter(Protocol):
    """Writes chunks of rows (`Store.iter_rows`) to an open binary file; `close`
    ends the format."""

    def write(self, rows: Sequence[Row]) -> None: ...

    def close(self) -> None: ...


class JsonLinesWriter:
    """One JSON object per line, every column present.

    The bytes are orjson's (what `event_record` lines were, and the importer's
    tests write): msgspec writes the same JSON for text, integers, booleans
    and most floats, and the rest (JSON columns, floats that may take an
    exponent) is orjson's text embedded as it is.
    """

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.encoder = msgspec.json.Encoder()

    def write(self, rows: Sequence[Row]) -> None:
        if not rows:
            return
        columns = _columns(rows, format_micros, _json_raw, bool)
        for i in _FLOATS:
            columns[i] = list(map(_float_raw, columns[i]))
        self.out.write(self.encoder.encode_lines(list(map(_Line, *columns))))

    def close(self) -> None:
        """Nothing to end: a JSON-lines file is complete after every line."""


class CsvWriter:
    """A header row, then one row per event; JSON columns JSON-encoded."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.text = io.StringIO(newline="")  # one chunk's rows, written out at once
        self.writer = csv.writer(self.text, lineterminator="\r\n")
        self.writer.writerow(EVENT_COLUMNS)
        self._flush()

    def _flush(self) -> None:
        self.out.write(self.text.getvalue().encode("utf-8"))
        self.text.seek(0)
        self.text.truncate()

    def write(self, rows: Sequence[Row]) -> None:
        if not rows:
            return
        columns = _columns(rows, format_micros, _json_text, _bit)
        self.writer.writerows(zip(*columns, strict=True))
        self._flush()

    def close(self) -> None:
        """Nothing to end: every chunk is written as it comes."""


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

    def write(self, rows: Sequence[Row]) -> None:
        if not rows:
            return
        # pyarrow takes the microseconds themselves for a timestamp[us] column
        columns = _columns(rows, None, _json_text, bool)
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
