"""A batch of events as PostgreSQL COPY text, rendered a slice at a time.

Why not `copy.write_row(row)` per event: that is a Python call, a row
tuple and ~40 value adaptations per event, which cost the client about as
much time as the server spends inserting. Here the batch is formatted with
C-level operations only (`attrgetter` over many fields at once, `str.join`,
`map`):

- before the COPY starts, one short-circuiting scan per column finds the
  columns some event uses; a column empty in every event is left out (it
  takes its DEFAULT: less to send and, above all, less for the server to
  parse). That is all the work done up front;
- everything else happens per slice (`render`), while the COPY is open, so
  the server inserts one slice while the next is being formatted: client
  and server work at the same time on two cores instead of one after the
  other;
- the text columns of a slice are joined into lines as they are, then the
  slice is checked once for the four characters COPY text treats specially
  (backslash, tab, newline, carriage return) by counting separators; only a
  slice holding one is escaped value by value;
- numbers, the timestamp (integer microseconds) and JSON are rendered per
  column.

An Event built without validation can hold a value of the wrong type (an
int in a text field). The strict render refuses it with TypeError
(`copy_text` returns None); the store renders such a slice with
`lenient=True`, which converts each value the way psycopg's adaptation did
(`5` in a text column is sent as `5`), so a COPY under way never has to be
abandoned for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from operator import attrgetter
from typing import Any

import msgspec
import orjson

from footfall.event import Event
from footfall.stores.rows import COLUMNS, GETTERS, used_columns

__all__ = ["ALWAYS", "CopyPlan", "copy_text"]

ALWAYS = frozenset({"id", "ts", "name"})  # NOT NULL without a default, or the key
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICRO = timedelta(microseconds=1)
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_INTS = frozenset({"status", "bytes"})
_JSON = frozenset({"props", "context"})
_TEXT = frozenset(
    f.name for f in msgspec.structs.fields(Event) if f.type is str and f.name in COLUMNS
)
_dumps = orjson.dumps


def _special(text: str) -> bool:
    return "\\" in text or "\t" in text or "\n" in text or "\r" in text


def _text(value: Any) -> str:
    """One text value, escaped when needed (the slow path; non-str values as psycopg sent them)."""
    text = value if isinstance(value, str) else str(value)
    return text.translate(_ESCAPES) if _special(text) else text


def _int(value: Any) -> str:
    """One integer value, leniently: bools and whole floats as integers, the rest as text."""
    if isinstance(value, bool | int) or (isinstance(value, float) and value.is_integer()):
        return repr(int(value))
    return _text(value)  # the server accepts "200" and refuses the rest, as it did before


def _rendered(name: str, values: Sequence[Any], lenient: bool) -> list[str]:
    """Non-text column `name` as COPY text; strict: TypeError on a value of the wrong type."""
    if name == "ts":
        # timedelta // timedelta is exact integer arithmetic, and runs in C
        return [str((t - _EPOCH) // _MICRO) for t in values]
    if name in _INTS:
        if lenient:
            return list(map(_int, values))
        return list(map(int.__repr__, values))  # TypeError on a float or str
    if name == "duration_ms":
        return [repr(float(v)) for v in values]
    if name == "is_bot":
        return ["1" if v else "0" for v in values]
    text = [_dumps(v).decode() if v else "{}" for v in values]  # JSON
    return [t.translate(_ESCAPES) for t in text] if _special("".join(text)) else text


class CopyPlan:
    """A batch's COPY column list, and its rows as text one slice at a time.

    Made once per batch (one COPY names one column list); `render` does the
    formatting, so a store can send each slice as soon as it is ready.
    """

    def __init__(self, events: Sequence[Event]) -> None:
        self.events = events
        used = used_columns(events, ALWAYS)
        plain = [n for n in used if n in _TEXT]  # id and name are always here
        self._extra = [n for n in used if n not in _TEXT]
        self.names = plain + self._extra
        self._plain_get: Callable[[Event], tuple[Any, ...]] = attrgetter(*plain)
        self._tabs = len(plain) - 1

    def render(self, start: int = 0, stop: int | None = None, *, lenient: bool = False) -> bytes:
        """Events `[start:stop]` of the batch as COPY text lines.

        Strict (the default) raises TypeError on a value of the wrong type;
        `lenient` converts it instead (see the module docstring).
        """
        chunk = self.events[start:stop]
        if not chunk:
            return b""
        heads = list(map(self._plain_get, chunk))
        lines: list[str] | None = None
        try:
            lines = list(map("\t".join, heads))
        except TypeError:
            if not lenient:
                raise
        if lines is not None:
            blob = "\n".join(lines)
            # A value holding a separator shows as one too many; `\` and CR never belong.
            if (
                "\\" in blob
                or "\r" in blob
                or blob.count("\t") != len(chunk) * self._tabs
                or blob.count("\n") != len(chunk) - 1
            ):
                lines = None
        if lines is None:
            lines = ["\t".join(map(_text, row)) for row in heads]
        tails = [_rendered(n, list(map(GETTERS[n], chunk)), lenient) for n in self._extra]
        return ("\n".join(map("\t".join, zip(lines, *tails, strict=True))) + "\n").encode()


def copy_text(events: Sequence[Event]) -> tuple[list[str], bytes] | None:
    """(column names, COPY text data) for `events`; None if a value has the wrong type."""
    try:
        plan = CopyPlan(events)
        return plan.names, plan.render()
    except (TypeError, ValueError, AttributeError):
        return None
