"""Event <-> row conversion, shared by the SQL stores.

The column order is `footfall.columns.EVENT_COLUMNS` (the `Event` fields).
Each dialect differs only in how a timestamp and a JSON object are
represented; those converters are passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime, timezone
from itertools import repeat
from operator import add, attrgetter
from typing import Any

import msgspec
import orjson

from footfall.columns import EVENT_COLUMNS, JSON_COLUMNS
from footfall.event import Event

__all__ = [
    "COLUMNS",
    "GETTERS",
    "decode_json",
    "encode_json",
    "event_row",
    "from_micros",
    "row_encoder",
    "row_to_event",
    "sqlite_columns",
    "sqlite_row",
    "to_micros",
    "used_columns",
]

COLUMNS: tuple[str, ...] = EVENT_COLUMNS
_IDX = {name: i for i, name in enumerate(COLUMNS)}
_TS, _PROPS, _CTX, _BOT = _IDX["ts"], _IDX["props"], _IDX["context"], _IDX["is_bot"]
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_astuple = msgspec.structs.astuple
_dumps = orjson.dumps


def to_micros(ts: datetime) -> int:
    """UTC microseconds since the epoch (exact, no float rounding)."""
    delta = ts - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(us: int) -> datetime:
    return datetime.fromtimestamp(us // 1_000_000, timezone.utc).replace(microsecond=us % 1_000_000)


def encode_json(obj: dict[str, Any]) -> str:
    return orjson.dumps(obj).decode() if obj else "{}"


def decode_json(text: Any) -> dict[str, Any]:
    if not text or text == "{}":
        return {}
    if isinstance(text, dict):
        return text
    value = orjson.loads(text)
    return value if isinstance(value, dict) else {}


def sqlite_row(event: Event) -> list[Any]:
    """Event -> SQLite row, inlined: this runs once per stored event."""
    row = list(_astuple(event))
    row[_TS] = _sqlite_ts(row[_TS])
    props = row[_PROPS]
    row[_PROPS] = _dumps(props).decode() if props else "{}"
    ctx = row[_CTX]
    row[_CTX] = _dumps(ctx).decode() if ctx else "{}"
    row[_BOT] = 1 if row[_BOT] else 0
    return row


_CONVERTED = frozenset(("ts", *JSON_COLUMNS, "is_bot"))  # not bound as they are
GETTERS = {name: attrgetter(name) for name in COLUMNS}  # one C-level reader per field


def used_columns(events: Sequence[Event], always: Collection[str] = ()) -> list[str]:
    """The columns (in COLUMNS order) that some event of `events` holds a non-default value in.

    One short-circuiting `any()` per column: a used column stops at its first
    non-empty value, so the cost is a full pass only over the columns no event
    uses. `always` are kept whatever they hold (keys, NOT NULL columns). The
    stores leave the other columns out of their INSERT or COPY, and the
    server fills in the defaults.
    """
    return [n for n in COLUMNS if n in always or any(map(GETTERS[n], events))]


def _sqlite_ts(ts: datetime) -> int:
    # A float timestamp has sub-microsecond resolution until 2106; past that, be exact.
    return round(ts.timestamp() * 1e6) if ts.year < 2100 else to_micros(ts)


def sqlite_columns(events: Sequence[Event]) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    """A batch as (used columns, rows): columns empty in every event are left out.

    Most events fill a handful of the ~40 fields, and binding a parameter is
    the per-value cost that dominates a bulk insert, so an omitted column
    (which takes its DEFAULT) makes the insert markedly cheaper. Which
    columns are used is a short-circuiting `any()` per column (a used one
    stops at its first value); the rows are then read with one `attrgetter`
    over the used columns that go in as they are, plus the few converted
    ones (timestamp, JSON, boolean) zipped on: all C-level, no
    transposition of the ~40 fields of every event.
    """
    used = used_columns(events, ("ts",))
    plain = [n for n in used if n not in _CONVERTED]
    converted = [n for n in used if n in _CONVERTED]
    tails: list[list[Any]] = []
    for name in converted:
        col = map(GETTERS[name], events)
        if name == "ts":
            tails.append([_sqlite_ts(t) for t in col])
        elif name == "is_bot":
            tails.append([1 if v else 0 for v in col])
        else:
            tails.append([_dumps(v).decode() if v else "{}" for v in col])
    if len(plain) > 1:
        heads: Iterable[tuple[Any, ...]] = map(attrgetter(*plain), events)
    elif plain:
        heads = zip(map(GETTERS[plain[0]], events))
    else:
        heads = repeat((), len(events))
    return (*plain, *converted), list(map(add, heads, zip(*tails, strict=True)))


def row_encoder(
    ts: Callable[[datetime], Any] | None = None,
    json: Callable[[dict[str, Any]], Any] = encode_json,
    boolean: Callable[[bool], Any] = int,
) -> Callable[[Event], Sequence[Any]]:
    """Build a fast Event -> row function for one dialect (default: SQLite's)."""
    if ts is None and json is encode_json and boolean is int:
        return sqlite_row
    ts = ts or to_micros

    def encode(event: Event) -> list[Any]:
        row = list(_astuple(event))
        row[_TS] = ts(row[_TS])
        row[_PROPS] = json(row[_PROPS])
        row[_CTX] = json(row[_CTX])
        row[_BOT] = boolean(row[_BOT])
        return row

    return encode


def event_row(event: Event) -> list[Any]:
    """Event -> row as `Store.iter_rows` gives it: ts in microseconds, is_bot 0/1,
    props and context kept as dicts."""
    row = list(_astuple(event))
    row[_TS] = to_micros(row[_TS])
    row[_BOT] = 1 if row[_BOT] else 0
    return row


def row_to_event(
    row: Sequence[Any],
    ts: Callable[[Any], datetime] = from_micros,
) -> Event:
    values = dict(zip(COLUMNS, row, strict=True))
    values["ts"] = ts(values["ts"])
    values["props"] = decode_json(values["props"])
    values["context"] = decode_json(values["context"])
    values["is_bot"] = bool(values["is_bot"])
    for key in ("status", "bytes"):
        values[key] = int(values[key] or 0)
    values["duration_ms"] = float(values["duration_ms"] or 0.0)
    return Event(**values)
