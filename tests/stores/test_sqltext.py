"""`?` SQL in each driver's placeholder style, and the one raw-event WHERE builder."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from footfall.columns import EVENT_COLUMNS
from footfall.stores import EventFilter, Store
from footfall.stores.rows import to_micros
from footfall.stores.sqltext import (
    FILTER_COLUMNS,
    FORMAT,
    PYFORMAT,
    QMARK,
    bind,
    events_condition,
    events_where,
    to_paramstyle,
)

T0 = datetime(2026, 3, 2, 12, tzinfo=timezone.utc)
T1 = datetime(2026, 3, 3, 12, tzinfo=timezone.utc)

# Text that looks like placeholders in a literal, a quoted identifier and comments.
TRICKY = (
    "SELECT 'it''s 100% sure? yes', ? AS \"why?\" -- a comment? 5%\n"
    "/* another? 1% */ WHERE x LIKE 'a%' AND y = ?"
)


def test_qmark_is_the_text_as_written() -> None:
    assert to_paramstyle(TRICKY, QMARK) is TRICKY


def test_format_swaps_bare_marks_and_doubles_every_percent() -> None:
    assert to_paramstyle(TRICKY, FORMAT) == (
        "SELECT 'it''s 100%% sure? yes', %s AS \"why?\" -- a comment? 5%%\n"
        "/* another? 1%% */ WHERE x LIKE 'a%%' AND y = %s"
    )


def test_pyformat_numbers_the_marks_in_order() -> None:
    assert to_paramstyle("SELECT ?, '?', ? + ?", PYFORMAT) == (
        "SELECT %(p1)s, '?', %(p2)s + %(p3)s"
    )
    assert bind(["a", 2], PYFORMAT) == {"p1": "a", "p2": 2}
    assert bind(("a", 2), FORMAT) == ["a", 2] == bind(("a", 2), QMARK)


@pytest.mark.parametrize("sql", ["SELECT 'open ?", 'SELECT "open ?', "SELECT 1 /* open ?"])
def test_an_unclosed_quote_or_comment_is_refused(sql: str) -> None:
    with pytest.raises(ValueError, match="unclosed"):
        to_paramstyle(sql, FORMAT)


def test_an_unknown_style_is_refused() -> None:
    with pytest.raises(ValueError, match="paramstyle"):
        to_paramstyle("SELECT ?", "numeric")


def test_each_driver_reads_literals_as_text_and_binds_the_marks(store: Store) -> None:
    """A literal holding `?` and `%` comes back as written, on every store's driver."""
    sql = "SELECT 'a?b%c' AS \"q?\", ? -- why? 100%"
    style = store.paramstyle
    rows = store.query(to_paramstyle(sql, style), bind(["x%?"], style))
    assert [tuple(r) for r in rows] == [("a?b%c", "x%?")]


def test_the_where_clause_in_each_style() -> None:
    filters = EventFilter(site="a.example", visitor_id="v")
    lo, hi = to_micros(T0), to_micros(T1)
    assert events_where(T0, T1, filters) == (
        " WHERE ts >= ? AND ts < ? AND site = ? AND visitor_id = ?",
        [lo, hi, "a.example", "v"],
    )
    assert events_where(T0, None, filters, FORMAT) == (
        " WHERE ts >= %s AND site = %s AND visitor_id = %s",
        [lo, "a.example", "v"],
    )
    assert events_where(None, T1, EventFilter(name="x"), PYFORMAT) == (
        " WHERE ts < %(p1)s AND name = %(p2)s",
        {"p1": hi, "p2": "x"},
    )
    assert events_where(None, None, None) == ("", [])
    assert events_condition(None, None, EventFilter(site="s")) == ("site = ?", ["s"])


def test_only_event_filter_fields_are_pasted_and_each_is_a_column() -> None:
    assert FILTER_COLUMNS <= set(EVENT_COLUMNS)

    class Sneaky(EventFilter):
        def items(self) -> list[tuple[str, str]]:
            return [("1 = 1 OR site", "x")]

    with pytest.raises(ValueError, match="not a filter column"):
        events_condition(None, None, Sneaky())
